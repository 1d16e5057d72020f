// mysql2 over the binary protocol: COM_STMT_PREPARE / COM_STMT_EXECUTE with every parameter type a client puts on
// the wire (the NULL bitmap, the types mysql2 infers from JavaScript values, and explicit TypedParameter types),
// read back through binary and text result rows; then one ~20 MiB execute, which travels as split 16 MiB frames.
import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { MysqlTarget } from '../mysql-target.js';
import { rowsOf, withConnection } from './connect.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const BLOB_BYTES = 20 * 1024 * 1024;

const PARAMS_TABLE = `create table x_params (
  id int primary key, n_null int null, n_int int, n_neg int, n_big bigint, n_ubig bigint unsigned, n_big_neg bigint,
  f float, dbl double, dec1 decimal(30, 10), flag boolean, txt varchar(100) charset utf8mb4,
  day date, moment datetime(6), micro datetime(6), span time(6), doc json, bin mediumblob)`;

const binary = Buffer.from([0x00, 0x01, 0x27, 0x5c, 0xff, 0xfe, 0x00, 0x80]);
const doc = { a: 1, nested: { k: 'v', list: [1, 'two', null, true] }, text: 'héllo 🌍' };

/** One value of each JavaScript type mysql2 maps to a parameter type, in PARAMS_TABLE's column order. */
const INFERRED_VALUES: readonly mysql.ExecuteValues[] = [
  1,
  null, // MYSQL_TYPE_NULL + NULL bitmap
  42, // integer (DOUBLE, or the server's integer hint)
  -42,
  '-9223372036854775808', // bigint as a string (VAR_STRING)
  18446744073709551615n, // BigInt, unsigned maximum
  -1234567890123n, // negative BigInt
  0.25, // float
  1 / 3, // double
  '12345678901234567890.0123456789', // decimal as a string
  true, // TINY
  `O'Reilly \\ "quoted" — héllo 🌍 日本`, // VAR_STRING, utf8mb4
  new Date('2024-02-29T00:00:00.000Z'), // DATETIME into DATE
  new Date('2024-02-29T13:14:15.123Z'), // DATETIME with milliseconds
  '2024-02-29 13:14:15.123456', // microseconds only fit a string
  '-838:59:59.000001',
  doc, // JSON (mysql2 sends it as a string to MariaDB)
  binary, // BLOB
];

const EXPECTED_ROW = {
  id: 1, n_null: null, n_int: 42, n_neg: -42, n_big: '-9223372036854775808', n_ubig: '18446744073709551615',
  n_big_neg: '-1234567890123', f: 0.25, dbl: 1 / 3, dec1: '12345678901234567890.0123456789', flag: 1,
  txt: `O'Reilly \\ "quoted" — héllo 🌍 日本`, day: new Date('2024-02-29T00:00:00.000Z'),
  moment: new Date('2024-02-29T13:14:15.123Z'), micro: new Date('2024-02-29T13:14:15.123Z'), span: '-838:59:59.000001',
  doc, bin: binary,
};

export function defineExecuteScenarios(getTarget: () => MysqlTarget): void {
  describe('mysql2 execute (binary protocol, server-side prepared statements)', () => {
    it('binds every inferred parameter type and reads each value back exactly', async () => {
      await withConnection(getTarget(), async (connection) => {
        await connection.query(PARAMS_TABLE);
        const placeholders = INFERRED_VALUES.map(() => '?').join(', ');
        const [ok] = await connection.execute<mysql.ResultSetHeader>(`insert into x_params values (${placeholders})`, [...INFERRED_VALUES]);
        expect(ok.affectedRows).toBe(1);

        const [binaryRows] = await connection.execute('select * from x_params where id = ?', [1]);
        expect(rowsOf(binaryRows)).toEqual([EXPECTED_ROW]);
        const [textRows] = await connection.query('select * from x_params where id = 1');
        expect(rowsOf(textRows)).toEqual([EXPECTED_ROW]);

        // What the server itself made of the values, independent of how mysql2 decodes results.
        const [checks] = await connection.execute(`select
            n_null is null as isnull, hex(bin) as bin_hex, json_value(doc, '$.nested.list[1]') as from_json,
            char_length(txt) as chars, date_format(micro, '%Y-%m-%d %H:%i:%s.%f') as micro_text,
            cast(day as char) as day_text, cast(dec1 as char) as dec_text
          from x_params where id = ?`, [1]);
        expect(rowsOf(checks)).toEqual([{
          isnull: 1, bin_hex: binary.toString('hex').toUpperCase(), from_json: 'two',
          chars: [...EXPECTED_ROW.txt].length, micro_text: '2024-02-29 13:14:15.123456', day_text: '2024-02-29',
          dec_text: '12345678901234567890.0123456789',
        }]);
      });
    });

    it('binds every explicit parameter type (TypedParameter) and gets the value back from the server', async () => {
      const T = mysql.TypedParameter;
      const at = new Date('2024-02-29T13:14:15.123Z');
      const cases: readonly { readonly param: mysql.ExecuteValues; readonly expected: unknown }[] = [
        { param: T.NULL(), expected: null },
        { param: T.TINY(-128), expected: -128 },
        { param: T.TINY.unsigned(255), expected: 255 },
        { param: T.SHORT(-32768), expected: -32768 },
        { param: T.LONG(-2147483648), expected: -2147483648 },
        { param: T.LONG.unsigned(4294967295), expected: 4294967295 },
        { param: T.LONGLONG(-9223372036854775808n), expected: '-9223372036854775808' },
        { param: T.LONGLONG.unsigned(18446744073709551615n), expected: '18446744073709551615' },
        { param: T.FLOAT(0.25), expected: 0.25 },
        { param: T.DOUBLE(Math.PI), expected: Math.PI },
        { param: T.NEWDECIMAL('-0.0000000001'), expected: '-0.0000000001' },
        { param: T.DATE('2024-02-29'), expected: new Date('2024-02-29T00:00:00.000Z') },
        { param: T.DATETIME(at), expected: at },
        { param: T.TIMESTAMP(at), expected: at },
        { param: T.TIME('-838:59:59.000001'), expected: '-838:59:59.000001' },
        { param: T.VAR_STRING('héllo 🌍'), expected: 'héllo 🌍' },
        { param: T.BLOB(binary), expected: binary },
        { param: T.JSON({ k: [1, 2] }), expected: '{"k":[1,2]}' },
      ];
      await withConnection(getTarget(), async (connection) => {
        const got: unknown[] = [];
        for (const { param } of cases) {
          const [result] = await connection.execute('select ? as v', [param]);
          got.push(rowsOf(result)[0]?.v);
        }
        expect(got).toEqual(cases.map(({ expected }) => expected));
      });
    });

    it('re-executes one statement with changing NULLs and types; the statement id stays the same', async () => {
      await withConnection(getTarget(), async (connection) => {
        const sql = 'select ? as a, ? as b, concat_ws(",", ?, ?) as joined';
        const runs: readonly (readonly mysql.ExecuteValues[])[] = [[null, 1, 'x', null], [2, null, null, 'y'], ['three', 3.5, 'p', 'q']];
        const got: unknown[] = [];
        for (const params of runs) {
          const [result] = await connection.execute(sql, [...params]);
          got.push(rowsOf(result)[0]);
        }
        expect(got).toEqual([{ a: null, b: 1, joined: 'x' }, { a: 2, b: null, joined: 'y' }, { a: 'three', b: 3.5, joined: 'p,q' }]);
        const prepared = await connection.prepare(sql);
        const [again] = await prepared.execute([null, null, null, null]);
        expect(rowsOf(again)).toEqual([{ a: null, b: null, joined: '' }]);
        await prepared.close();
      });
    });

    it('a 20 MB BLOB: insert by execute (one ~20 MiB COM_STMT_EXECUTE) and select it back, sha256 equal', { timeout: 60_000 }, async () => {
      const data = randomBytes(BLOB_BYTES);
      const digest = sha256(data);
      await withConnection(getTarget(), async (connection) => {
        await connection.query('create table x_blob (id int primary key, data longblob not null)');
        const [ok] = await connection.execute<mysql.ResultSetHeader>('insert into x_blob values (?, ?)', [1, data]);
        expect(ok.affectedRows).toBe(1);

        const [server] = await connection.execute('select length(data) as bytes, sha2(data, 256) as digest from x_blob where id = ?', [1]);
        expect(rowsOf(server)).toEqual([{ bytes: BLOB_BYTES, digest }]);
        const [binaryRows] = await connection.execute('select data from x_blob where id = ?', [1]);
        const viaBinary = rowsOf(binaryRows)[0]?.data as unknown;
        expect(Buffer.isBuffer(viaBinary) && viaBinary.length === BLOB_BYTES && sha256(viaBinary) === digest).toBe(true);
        const [textRows] = await connection.query('select data from x_blob where id = 1');
        const viaText = rowsOf(textRows)[0]?.data as unknown;
        expect(Buffer.isBuffer(viaText) && viaText.length === BLOB_BYTES && sha256(viaText) === digest).toBe(true);
      });
    });
  });
}
