// mysql2 over the text protocol (COM_QUERY): client-side placeholder interpolation, multi-statements with several
// result sets, transactions seen from a second session, and server errors with their errno and SQLSTATE.
import type mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { MysqlTarget } from '../mysql-target.js';
import { connect, rowsOf, serverErrorOf, withConnection } from './connect.js';

/** OK packet status flag (Protocol::StatusFlags). */
const SERVER_STATUS_IN_TRANS = 0x0001;

const TRICKY_TEXT = `O'Reilly \\ "quoted" \u0000 -- not a comment; 🌍 日本`;

async function rows(connection: mysql.Connection, sql: string, values?: mysql.QueryValues): Promise<mysql.RowDataPacket[]> {
  const [result] = await connection.query(sql, values);
  return rowsOf(result);
}

export function defineQueryScenarios(getTarget: () => MysqlTarget): void {
  describe('mysql2 query (text protocol)', () => {
    it('interpolates placeholders client-side: strings, NULL, numbers, dates, buffers, lists, objects, identifiers', async () => {
      await withConnection(getTarget(), async (connection) => {
        await connection.query(`create table q_people (
          id int primary key, name varchar(100) charset utf8mb4, note text, born datetime(3), photo varbinary(64), score double)`);
        const photo = Buffer.from([0x00, 0x27, 0x5c, 0xff, 0x22]);
        const born = new Date('1999-12-31T23:59:58.250Z');
        // The text that really goes to the server: escaped literals, no placeholder left.
        const sql = connection.format('insert into q_people values (?, ?, ?, ?, ?, ?)', [1, TRICKY_TEXT, null, born, photo, -0.5]);
        expect(sql).not.toContain('?');
        expect(sql).toContain("'O\\'Reilly \\\\ \\\"quoted\\\" \\0 -- not a comment; 🌍 日本'");
        expect(sql).toContain("X'00275cff22'");
        await connection.query('insert into q_people values (?, ?, ?, ?, ?, ?)', [1, TRICKY_TEXT, null, born, photo, -0.5]);
        await connection.query('insert into q_people set ?', { id: 2, name: 'by object', note: 'n', born, photo: null, score: 2 });
        await connection.query('insert into q_people (id, name) values ?', [[[3, 'bulk a'], [4, 'bulk b']]]);

        const [first] = await rows(connection, 'select * from q_people where id = ?', [1]);
        expect(first).toEqual({ id: 1, name: TRICKY_TEXT, note: null, born, photo, score: -0.5 });
        const listed = await rows(connection, 'select ?? as picked from q_people where id in (?) order by id', ['name', [2, 3, 4]]);
        expect(listed.map((row) => row.picked)).toEqual(['by object', 'bulk a', 'bulk b']);
      });
    });

    it('multipleStatements: one COM_QUERY returns 2 result sets and an OK; an error stops the rest', async () => {
      await withConnection(getTarget(), async (connection) => {
        await connection.query('create table q_multi (id int primary key)');
        const [results] = await connection.query('select 1 as a; select 2 as b, 3 as c; insert into q_multi values (1), (2)');
        expect(Array.isArray(results)).toBe(true);
        const [setA, setB, ok] = results as [mysql.RowDataPacket[], mysql.RowDataPacket[], mysql.ResultSetHeader];
        expect((results as unknown[]).length).toBe(3);
        expect(setA).toEqual([{ a: 1 }]);
        expect(setB).toEqual([{ b: 2, c: 3 }]);
        expect(ok.affectedRows).toBe(2);

        const error = await serverErrorOf(connection.query('insert into q_multi values (3); select * from q_missing; insert into q_multi values (4)'));
        expect(error).toMatchObject({ errno: 1146, sqlState: '42S02' });
        // The statement before the error ran, the one after it did not; the connection is still in step.
        expect(await rows(connection, 'select id from q_multi order by id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      }, { multipleStatements: true });
    });

    it('without multipleStatements a second statement is a syntax error', async () => {
      await withConnection(getTarget(), async (connection) => {
        expect(await serverErrorOf(connection.query('select 1; select 2'))).toMatchObject({ errno: 1064, sqlState: '42000' });
        expect(await rows(connection, 'select 3 as n')).toEqual([{ n: 3 }]);
      });
    });

    it('transactions: a commit is seen by another session, a rollback (and to a savepoint) leaves nothing', async () => {
      const target = getTarget();
      const writer = await connect(target);
      const reader = await connect(target);
      try {
        await writer.query('create table q_acct (id int primary key, balance int not null) engine=InnoDB');
        await writer.query('insert into q_acct values (1, 100), (2, 0)');
        const balances = async (): Promise<unknown[]> => (await rows(reader, 'select balance from q_acct order by id')).map((row) => row.balance);

        await writer.beginTransaction();
        const [moved] = await writer.query<mysql.ResultSetHeader>('update q_acct set balance = balance - 30 where id = 1');
        expect(moved.serverStatus & SERVER_STATUS_IN_TRANS).toBe(SERVER_STATUS_IN_TRANS);
        await writer.query('update q_acct set balance = balance + 30 where id = 2');
        expect(await balances()).toEqual([100, 0]);
        await writer.commit();
        expect(await balances()).toEqual([70, 30]);

        await writer.beginTransaction();
        await writer.query('insert into q_acct values (3, 5)');
        await writer.query('delete from q_acct where id = 1');
        await writer.rollback();
        expect(await balances()).toEqual([70, 30]);

        await writer.beginTransaction();
        await writer.query('update q_acct set balance = 0 where id = 1');
        await writer.query('savepoint before_second');
        await writer.query('update q_acct set balance = 0 where id = 2');
        await writer.query('rollback to savepoint before_second');
        await writer.commit();
        expect(await balances()).toEqual([0, 30]);
        const [after] = await writer.query<mysql.ResultSetHeader>('update q_acct set balance = 1 where id = 3');
        expect(after.affectedRows).toBe(0);
        expect(after.serverStatus & SERVER_STATUS_IN_TRANS).toBe(0);
      } finally {
        await Promise.all([writer.end(), reader.end()]);
      }
    });

    it('errors: 1062 duplicate key and 1064 syntax carry errno, SQLSTATE and code; the session goes on', async () => {
      await withConnection(getTarget(), async (connection) => {
        await connection.query('create table q_unique (id int primary key, email varchar(50) unique)');
        await connection.query("insert into q_unique values (1, 'a@example.com')");

        const duplicate = await serverErrorOf(connection.query("insert into q_unique values (2, 'a@example.com')"));
        expect(duplicate).toMatchObject({ errno: 1062, sqlState: '23000', code: 'ER_DUP_ENTRY' });
        expect(duplicate.message).toBe("Duplicate entry 'a@example.com' for key 'email'");
        const syntax = await serverErrorOf(connection.query('selec 1'));
        expect(syntax).toMatchObject({ errno: 1064, sqlState: '42000', code: 'ER_PARSE_ERROR' });
        expect(syntax.message).toMatch(/^You have an error in your SQL syntax; .* near 'selec 1' at line 1$/);

        // The same through the binary protocol: a duplicate at execute, a syntax error already at prepare.
        expect(await serverErrorOf(connection.execute('insert into q_unique values (?, ?)', [1, 'b@example.com'])))
          .toMatchObject({ errno: 1062, sqlState: '23000', code: 'ER_DUP_ENTRY' });
        expect(await serverErrorOf(connection.execute('selec ?', [1])))
          .toMatchObject({ errno: 1064, sqlState: '42000', code: 'ER_PARSE_ERROR' });

        await connection.ping(); // COM_PING
        expect(await rows(connection, 'select count(*) as n from q_unique')).toEqual([{ n: '1' }]);
      });
    });
  });
}
