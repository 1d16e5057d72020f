import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { CapabilityFlag as C, ColumnType as T } from '../../protocols/mysql/constants.js';
import {
  decodeComStmtExecute, paramAuditText, readStmtExecuteStatementId, type ParamType, type PreparedStatementState,
} from '../../protocols/mysql/stmt-execute.js';
import { captured, cat, lenenc, lenStr, u16, u32, u64 } from '../support/mysql-frames.js';

const MARIADB = { capabilities: 0x81fff7fe & 0x08bbf3ce };
const MYSQL8 = { capabilities: C.CLIENT_PROTOCOL_41 | C.CLIENT_QUERY_ATTRIBUTES };

interface P { readonly type: number; readonly unsigned?: boolean; readonly value: Buffer | null }

/** COM_STMT_EXECUTE built from the docs: header, NULL bitmap, bound flag, types, values. */
function execute(statementId: number, params: readonly P[], bound = true): Buffer {
  const bitmap = Buffer.alloc((params.length + 7) >> 3);
  params.forEach((p, i) => { if (p.value === null) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7)); });
  const types = bound ? cat(...params.map((p) => [p.type, p.unsigned === true ? 0x80 : 0])) : Buffer.alloc(0);
  return cat([0x17], u32(statementId), [0], u32(1), params.length > 0 ? cat(bitmap, [bound ? 1 : 0], types) : [],
    ...params.map((p) => p.value ?? Buffer.alloc(0)));
}

const fresh = (paramCount: number): PreparedStatementState => ({ paramCount, boundTypes: null });
const texts = (payload: Buffer, state: PreparedStatementState, options: object = MARIADB): (string | null)[] =>
  decodeComStmtExecute(payload, state, { ...MARIADB, ...options }).params.map(paramAuditText);
const float32 = (value: number): Buffer => { const b = Buffer.alloc(4); b.writeFloatLE(value); return b; };
const float64 = (value: number): Buffer => { const b = Buffer.alloc(8); b.writeDoubleLE(value); return b; };
const one = (p: P, options: object = MARIADB): string | null => texts(execute(1, [p]), fresh(1), options)[0] ?? 'missing';

describe('COM_STMT_EXECUTE from mysql2', () => {
  it('decodes every parameter of the real packet', () => {
    expect(readStmtExecuteStatementId(captured.mysql2Execute)).toBe(1);
    const decoded = decodeComStmtExecute(captured.mysql2Execute, fresh(9), MARIADB);
    expect(decoded).toMatchObject({ statementId: 1, flags: 0, iterationCount: 1, newParamsBound: true, truncated: false, attributes: [] });
    expect(decoded.paramTypes.map((t) => t.columnType)).toEqual([T.MYSQL_TYPE_DOUBLE, T.MYSQL_TYPE_DOUBLE, T.MYSQL_TYPE_VAR_STRING,
      T.MYSQL_TYPE_NULL, T.MYSQL_TYPE_DATETIME, T.MYSQL_TYPE_BLOB, T.MYSQL_TYPE_VAR_STRING, T.MYSQL_TYPE_TINY, T.MYSQL_TYPE_VAR_STRING]);
    expect(decoded.params.map(paramAuditText)).toEqual(['42', '1.5', 'héllo', null, '2024-01-02 03:04:05.678000', '0x0102ff',
      '9007199254740993', '1', '{"a":1}']);
    expect(texts(captured.mysql2ExecuteSecond, fresh(1))).toEqual(['0']);
  });

  it('reuses the previously bound types when new_params_bind_flag is 0', () => {
    const first = decodeComStmtExecute(execute(4, [{ type: T.MYSQL_TYPE_LONG, value: u32(7) }]), fresh(1), MARIADB);
    const state = { paramCount: 1, boundTypes: first.paramTypes };
    const again = decodeComStmtExecute(execute(4, [{ type: T.MYSQL_TYPE_LONG, value: u32(8) }], false), state, MARIADB);
    expect(again).toMatchObject({ newParamsBound: false, params: [{ type: 'value', text: '8' }] });
    expect(() => decodeComStmtExecute(execute(4, [{ type: 3, value: u32(8) }], false), fresh(1), MARIADB)).toThrow(/never bound/);
  });
});

describe('binary values by type', () => {
  it.each<[string, P, string]>([
    ['TINY', { type: T.MYSQL_TYPE_TINY, value: Buffer.from([0xff]) }, '-1'],
    ['TINY unsigned', { type: T.MYSQL_TYPE_TINY, unsigned: true, value: Buffer.from([0xff]) }, '255'],
    ['SHORT', { type: T.MYSQL_TYPE_SHORT, value: u16(0xfffe) }, '-2'],
    ['SHORT unsigned', { type: T.MYSQL_TYPE_SHORT, unsigned: true, value: u16(0xfffe) }, '65534'],
    ['YEAR', { type: T.MYSQL_TYPE_YEAR, value: u16(2024) }, '2024'],
    ['LONG', { type: T.MYSQL_TYPE_LONG, value: u32(0xffffffff) }, '-1'],
    ['LONG unsigned', { type: T.MYSQL_TYPE_LONG, unsigned: true, value: u32(0xffffffff) }, '4294967295'],
    ['INT24', { type: T.MYSQL_TYPE_INT24, value: u32(0xffffff) }, '16777215'],
    ['LONGLONG', { type: T.MYSQL_TYPE_LONGLONG, value: u64(0xffffffffffffffffn) }, '-1'],
    ['LONGLONG unsigned', { type: T.MYSQL_TYPE_LONGLONG, unsigned: true, value: u64(0xffffffffffffffffn) }, '18446744073709551615'],
    ['FLOAT', { type: T.MYSQL_TYPE_FLOAT, value: float32(0.1) }, '0.1'],
    ['DOUBLE', { type: T.MYSQL_TYPE_DOUBLE, value: float64(-2.5e-7) }, '-2.5e-7'],
    ['DATE', { type: T.MYSQL_TYPE_DATE, value: cat([4], u16(2024), [2, 29]) }, '2024-02-29'],
    ['DATE zero', { type: T.MYSQL_TYPE_DATE, value: Buffer.from([0]) }, '0000-00-00'],
    ['DATETIME 4', { type: T.MYSQL_TYPE_DATETIME, value: cat([4], u16(2024), [2, 29]) }, '2024-02-29 00:00:00'],
    ['DATETIME 7', { type: T.MYSQL_TYPE_DATETIME, value: cat([7], u16(999), [12, 31, 23, 59, 58]) }, '0999-12-31 23:59:58'],
    ['DATETIME 11', { type: T.MYSQL_TYPE_DATETIME, value: cat([11], u16(2024), [1, 2, 3, 4, 5], u32(5)) }, '2024-01-02 03:04:05.000005'],
    ['DATETIME zero', { type: T.MYSQL_TYPE_DATETIME, value: Buffer.from([0]) }, '0000-00-00 00:00:00'],
    ['TIMESTAMP', { type: T.MYSQL_TYPE_TIMESTAMP, value: cat([7], u16(2038), [1, 19, 3, 14, 7]) }, '2038-01-19 03:14:07'],
    ['TIME 8 negative', { type: T.MYSQL_TYPE_TIME, value: cat([8, 1], u32(1), [2, 3, 4]) }, '-26:03:04'],
    ['TIME 12', { type: T.MYSQL_TYPE_TIME, value: cat([12, 0], u32(0), [10, 0, 0], u32(123456)) }, '10:00:00.123456'],
    ['TIME zero', { type: T.MYSQL_TYPE_TIME, value: Buffer.from([0]) }, '00:00:00'],
    ['NEWDECIMAL', { type: T.MYSQL_TYPE_NEWDECIMAL, value: lenStr('12.50') }, '12.50'],
    ['DECIMAL', { type: T.MYSQL_TYPE_DECIMAL, value: lenStr('-1') }, '-1'],
    ['VARCHAR', { type: T.MYSQL_TYPE_VARCHAR, value: lenStr('a') }, 'a'],
    ['STRING', { type: T.MYSQL_TYPE_STRING, value: lenStr('日本') }, '日本'],
    ['ENUM', { type: T.MYSQL_TYPE_ENUM, value: lenStr('red') }, 'red'],
    ['SET', { type: T.MYSQL_TYPE_SET, value: lenStr('a,b') }, 'a,b'],
    ['JSON', { type: T.MYSQL_TYPE_JSON, value: lenStr('[1]') }, '[1]'],
    ['VAR_STRING not UTF-8', { type: T.MYSQL_TYPE_VAR_STRING, value: lenStr(Buffer.from([0xff, 0xfe])) }, '0xfffe'],
    ['empty VAR_STRING', { type: T.MYSQL_TYPE_VAR_STRING, value: lenStr('') }, ''],
    ['TINY_BLOB', { type: T.MYSQL_TYPE_TINY_BLOB, value: lenStr('abc') }, '0x616263'],
    ['MEDIUM_BLOB', { type: T.MYSQL_TYPE_MEDIUM_BLOB, value: lenStr(Buffer.from([0])) }, '0x00'],
    ['LONG_BLOB', { type: T.MYSQL_TYPE_LONG_BLOB, value: lenStr('') }, '0x'],
    ['BIT', { type: T.MYSQL_TYPE_BIT, value: lenStr(Buffer.from([5])) }, '0x05'],
    ['GEOMETRY', { type: T.MYSQL_TYPE_GEOMETRY, value: lenStr(Buffer.from([0, 0, 0, 0, 1])) }, '0x0000000001'],
  ])('%s', (_name, param, text) => {
    expect(one(param)).toBe(text);
  });

  it('NULL comes from the bitmap, or from the NULL type', () => {
    const payload = execute(1, [{ type: T.MYSQL_TYPE_LONG, value: null }, { type: T.MYSQL_TYPE_NULL, value: Buffer.alloc(0) },
      { type: T.MYSQL_TYPE_TINY, value: Buffer.from([1]) }]);
    expect(texts(payload, fresh(3))).toEqual([null, null, '1']);
  });

  it('refuses impossible temporal lengths and types with no binary encoding', () => {
    expect(() => one({ type: T.MYSQL_TYPE_DATETIME, value: cat([5], Buffer.alloc(5)) })).toThrow(/length 5/);
    expect(() => one({ type: T.MYSQL_TYPE_TIME, value: cat([7], Buffer.alloc(7)) })).toThrow(/length 7/);
    expect(() => one({ type: T.MYSQL_TYPE_TYPED_ARRAY, value: lenStr('x') })).toThrow(/no binary encoding/);
  });

  it('cuts long values with the true length noted, at a character boundary', () => {
    const options = { maxValueBytes: 4 };
    expect(one({ type: T.MYSQL_TYPE_VAR_STRING, value: lenStr('abcdefghij') }, options)).toBe('abcd…[10 bytes]');
    expect(one({ type: T.MYSQL_TYPE_VAR_STRING, value: lenStr('ééé') }, options)).toBe('éé…[6 bytes]');
    expect(one({ type: T.MYSQL_TYPE_VAR_STRING, value: lenStr('aéé') }, options)).toBe('aé…[5 bytes]');
    expect(one({ type: T.MYSQL_TYPE_BLOB, value: lenStr('abcdef') }, options)).toBe('0x6162…[6 bytes]');
  });
});

describe('long data, retained prefixes and MySQL query attributes', () => {
  it('does not read parameters that received COM_STMT_SEND_LONG_DATA', () => {
    const payload = execute(2, [{ type: T.MYSQL_TYPE_LONG, value: u32(1) }, { type: T.MYSQL_TYPE_BLOB, value: Buffer.alloc(0) },
      { type: T.MYSQL_TYPE_LONG, value: u32(3) }]);
    const decoded = decodeComStmtExecute(payload, { paramCount: 3, boundTypes: null, longDataParams: new Set([1]) }, MARIADB);
    expect(decoded.params).toEqual([{ type: 'value', text: '1' }, { type: 'long_data' }, { type: 'value', text: '3' }]);
    expect(decoded.params.map(paramAuditText)).toEqual(['1', '[long data]', '3']);
  });

  it('decodes what a retained prefix holds of a 20 MB BLOB and marks what follows', () => {
    const blobLength = 20_000_000;
    const head = execute(3, [{ type: T.MYSQL_TYPE_LONG, value: u32(1) }, { type: T.MYSQL_TYPE_BLOB, value: Buffer.alloc(0) },
      { type: T.MYSQL_TYPE_LONG, value: u32(3) }]);
    const prefix = cat(head.subarray(0, head.length - 4), lenenc(blobLength), Buffer.alloc(40, 0xab));
    const payloadLength = head.length - 4 + 4 + blobLength + 4;
    const decoded = decodeComStmtExecute(prefix, fresh(3), { ...MARIADB, payloadLength });
    expect(decoded.truncated).toBe(true);
    expect(decoded.params.map(paramAuditText)).toEqual(['1', `0x${'ab'.repeat(40)}…[20000000 bytes]`, '[not retained]']);
  });

  it('reads the parameter count and named attributes with CLIENT_QUERY_ATTRIBUTES', () => {
    const payload = cat([0x17], u32(5), [0], u32(1), lenenc(2), [0], [1], [T.MYSQL_TYPE_LONG, 0], lenStr(''),
      [T.MYSQL_TYPE_VAR_STRING, 0], lenStr('trace'), u32(5), lenStr('t1'));
    const decoded = decodeComStmtExecute(payload, fresh(1), MYSQL8);
    expect(decoded.params).toEqual([{ type: 'value', text: '5' }]);
    expect(decoded.paramTypes).toEqual<ParamType[]>([{ columnType: T.MYSQL_TYPE_LONG, unsigned: false }]);
    expect(decoded.attributes).toEqual([{ name: 'trace', value: { type: 'value', text: 't1' } }]);
    // No statement parameters: the count is there only when PARAMETER_COUNT_AVAILABLE (0x08) says so.
    const attrsOnly = cat([0x17], u32(6), [0x08], u32(1), lenenc(1), [0], [1], [T.MYSQL_TYPE_VAR_STRING, 0], lenStr('k'), lenStr('v'));
    expect(decodeComStmtExecute(attrsOnly, fresh(0), MYSQL8).attributes).toEqual([{ name: 'k', value: { type: 'value', text: 'v' } }]);
    expect(decodeComStmtExecute(cat([0x17], u32(6), [0], u32(1)), fresh(0), MYSQL8).params).toEqual([]);
    expect(() => decodeComStmtExecute(cat([0x17], u32(5), [0], u32(1), lenenc(0)), fresh(1), MYSQL8)).toThrow(/0 parameters sent/);
  });

  it('refuses a bad bind flag, a type count mismatch, and every truncation of the real packet; counts trailing bytes', () => {
    const base = execute(1, [{ type: T.MYSQL_TYPE_TINY, value: Buffer.from([1]) }]);
    const badFlag = Buffer.from(base);
    badFlag[11] = 2;
    expect(() => decodeComStmtExecute(badFlag, fresh(1), MARIADB)).toThrow(/new_params_bind_flag 2/);
    const twoTypes = [{ columnType: 1, unsigned: false }, { columnType: 1, unsigned: false }];
    expect(() => decodeComStmtExecute(execute(1, [{ type: 1, value: Buffer.from([1]) }], false), { paramCount: 1, boundTypes: twoTypes }, MARIADB))
      .toThrow(/2 bound types/);
    // Bytes after the values: the server stops reading there, so they are counted, not refused.
    expect(decodeComStmtExecute(base, fresh(1), MARIADB).trailingBytes).toBe(0);
    expect(decodeComStmtExecute(cat(base, [0]), fresh(1), MARIADB)).toMatchObject({ trailingBytes: 1, params: [{ type: 'value', text: '1' }] });
    // mysql2's execute('SELECT 1', [5]): a value for a statement without parameters.
    const extraValue = cat([0x17], u32(1), [0], u32(1), [0x00], [1], [T.MYSQL_TYPE_LONGLONG, 0], Buffer.alloc(8));
    expect(decodeComStmtExecute(extraValue, fresh(0), MARIADB)).toMatchObject({ params: [], trailingBytes: 12 });
    expect(() => decodeComStmtExecute(cat([0x16], u32(1)), fresh(0), MARIADB)).toThrow(/command 0x16/);
    for (let length = 0; length < captured.mysql2Execute.length; length++) {
      expect(() => decodeComStmtExecute(captured.mysql2Execute.subarray(0, length), fresh(9), MARIADB)).toThrow(WireFormatError);
    }
  });
});
