// What applications do with mysql2 that the other scenarios do not (issue 19 defects 10b, 10c): pass values to a
// statement without placeholders, and cancel a running query with KILL QUERY <threadId> from a second connection —
// by hand (a GUI's cancel button) or after mysql2's own query `timeout`, which only stops waiting (mysql2 3.x sends no
// KILL itself), as knex's `.timeout(ms, { cancel: true })` does. Each scenario runs direct and through jitgate with
// the same assertions: through jitgate `threadId` is the id jitgate advertised, and the KILL must still reach the
// right server thread (COM_PROCESS_KILL and other grants' ids: test/integration/mysql-kill.test.ts).
import type mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { MysqlTarget } from '../mysql-target.js';
import { connect, rowsOf, serverErrorOf, withConnection } from './connect.js';

/** MariaDB's answer to the statement a KILL QUERY interrupted. */
const QUERY_INTERRUPTED = { errno: 1317, sqlState: '70100', code: 'ER_QUERY_INTERRUPTED' } as const;
/** A thread id no session has (jitgate's ids stay below 2^31; MariaDB's count up from 1). */
const NO_SUCH_THREAD = 4_000_000_000;

/** Resolves once the server's processlist (as `observer`'s user sees it) shows a statement running with text `info`. */
async function waitUntilRunning(observer: mysql.Connection, info: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const [rows] = await observer.query('select count(*) as n from information_schema.processlist where info = ?', [info]);
    if (Number(rowsOf(rows)[0]?.n) > 0) return;
    if (Date.now() > deadline) throw new Error(`"${info}" did not show in the processlist within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Milliseconds `promise` takes to settle. */
async function settledAfter(promise: Promise<unknown>): Promise<number> {
  const started = Date.now();
  await promise.catch(() => undefined);
  return Date.now() - started;
}

export function defineAppPatternScenarios(getTarget: () => MysqlTarget): void {
  describe('mysql2 as applications use it', () => {
    it('execute() with values for a statement without placeholders: the server ignores them, the connection goes on', async () => {
      await withConnection(getTarget(), async (connection) => {
        const [rows] = await connection.execute('select 1 as one', [5]);
        expect(rowsOf(rows)).toEqual([{ one: 1 }]);
        const [again] = await connection.execute('select 2 as two', ['extra', null, 7.5]);
        expect(rowsOf(again)).toEqual([{ two: 2 }]);
        const [next] = await connection.query('select 3 as three');
        expect(rowsOf(next)).toEqual([{ three: 3 }]);
      });
    });

    it('KILL QUERY <threadId> from a second connection interrupts the first one\'s SLEEP(10); the first goes on', async () => {
      const target = getTarget();
      await withConnection(target, async (sleeper) => {
        await withConnection(target, async (killer) => {
          const sql = 'select sleep(10) as slept /* ap_kill_query */';
          const running = serverErrorOf(sleeper.query(sql));
          await waitUntilRunning(killer, sql);
          const [ok] = await killer.query<mysql.ResultSetHeader>(`KILL QUERY ${sleeper.threadId}`);
          expect(ok.affectedRows).toBe(0);
          expect(await running).toMatchObject(QUERY_INTERRUPTED);
          const [rows] = await sleeper.query('select 42 as answer');
          expect(rowsOf(rows)).toEqual([{ answer: 42 }]);
          // The MariaDB forms, with a comment and a trailing ';', name the same connection.
          const [soft] = await killer.query<mysql.ResultSetHeader>(`/* cancel */ kill soft query ${sleeper.threadId} ;`);
          expect(soft.affectedRows).toBe(0);
          const [still] = await sleeper.query('select 43 as answer');
          expect(rowsOf(still)).toEqual([{ answer: 43 }]);
        });
      });
    });

    it('after mysql2\'s query timeout, KILL QUERY <threadId> as knex cancels: the connection is free at once', async () => {
      const target = getTarget();
      await withConnection(target, async (sleeper) => {
        await withConnection(target, async (killer) => {
          const timedOut = await serverErrorOf(sleeper.query({ sql: 'select sleep(10) as slept /* ap_timeout */', timeout: 300 }));
          expect(timedOut.code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
          await killer.query(`KILL QUERY ${sleeper.threadId}`);
          // Queued behind the interrupted SLEEP: it answers as soon as the server has let go of it, not after 10 s.
          let rows: unknown;
          const took = await settledAfter(sleeper.query('select 44 as answer').then(([result]) => { rows = result; }));
          expect(rowsOf(rows)).toEqual([{ answer: 44 }]);
          expect(took).toBeLessThan(5_000);
        });
      });
    });

    it('KILL CONNECTION <threadId> ends the other connection; KILL of an id no session has gets ERR 1094', async () => {
      const target = getTarget();
      await withConnection(target, async (killer) => {
        const victim = await connect(target);
        const lost = new Promise<unknown>((resolve) => victim.on('error', (error: Error & { code?: unknown }) => resolve(error.code)));
        await victim.query('select 1');
        await killer.query(`KILL CONNECTION ${victim.threadId}`);
        // MariaDB closes a killed idle connection without a word (so does jitgate when its server connection goes).
        expect(await lost).toBe('PROTOCOL_CONNECTION_LOST');
        victim.destroy();

        for (const statement of [`KILL QUERY ${NO_SUCH_THREAD}`, `KILL ${NO_SUCH_THREAD}`, `kill hard connection ${NO_SUCH_THREAD};`]) {
          expect(await serverErrorOf(killer.query(statement))).toEqual({
            errno: 1094, sqlState: 'HY000', code: 'ER_NO_SUCH_THREAD', message: `Unknown thread id: ${NO_SUCH_THREAD}`,
          });
        }
        const [rows] = await killer.query('select 45 as answer');
        expect(rowsOf(rows)).toEqual([{ answer: 45 }]);
      });
    });
  });
}
