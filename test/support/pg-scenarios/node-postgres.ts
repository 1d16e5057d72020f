// node-postgres (`pg`), the driver most Node services use: simple and extended query, named statements, a deep queue
// of unawaited queries, LISTEN/NOTIFY between sessions, transactions and their failure modes, binary formats.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { PgTarget } from '../pg-target.js';
import { sqlstateOf, uniqueName, useScenarioScope, within } from './scope.js';

/** Notifications `client` receives from now on, and a way to wait until `count` have arrived. */
function collectNotifications(client: pg.Client): { received: pg.Notification[]; waitFor(count: number): Promise<void> } {
  const received: pg.Notification[] = [];
  let wake = (): void => {};
  client.on('notification', (message) => {
    received.push(message);
    wake();
  });
  return {
    received,
    waitFor: (count) => within(5_000, `${count} notification(s)`, new Promise<void>((resolve) => {
      wake = () => {
        if (received.length >= count) resolve();
      };
      wake();
    })),
  };
}

export function defineNodePostgresScenarios(getTarget: () => PgTarget): void {
  describe('node-postgres', () => {
    const scope = useScenarioScope(getTarget);

    it('simple query: rows, fields and tags, also for a multi-statement string', async () => {
      const client = await scope.pgClient();
      const one = await client.query(`select 1 as one, 'x'::text as s, null::int as nothing`);
      expect(one.rows).toEqual([{ one: 1, s: 'x', nothing: null }]);
      expect(one.fields.map((field) => field.name)).toEqual(['one', 's', 'nothing']);
      expect(one.command).toBe('SELECT');
      const many = await client.query('select 1 as a; select 2 as b, 3 as c; set search_path to public') as unknown as pg.QueryResult[];
      expect(many.map((result) => [result.command, result.rows])).toEqual([
        ['SELECT', [{ a: 1 }]], ['SELECT', [{ b: 2, c: 3 }]], ['SET', []],
      ]);
    });

    it('parameterized query: text parameters incl. NULL, unicode and a 1 MB string', async () => {
      const client = await scope.pgClient();
      const long = 'abcdefghij'.repeat(100_000);
      const unicode = 'grüße, 日本語, emoji 😀, nul-free \u00a0 end';
      const result = await client.query(
        'select $1::text as a, $2::text as b, length($3::text) as len, md5($3::text) as sum, $4::int + 1 as n, $5::text is null as isnull',
        [unicode, '', long, 41, null],
      );
      expect(result.rows).toEqual([{
        a: unicode, b: '', len: 1_000_000, sum: createHash('md5').update(long).digest('hex'), n: 42, isnull: true,
      }]);
      const t = scope.table('pg_params');
      await client.query(`create table ${t} (id int primary key, note text)`);
      await client.query(`insert into ${t} values ($1, $2), ($3, $4)`, [1, unicode, 2, null]);
      expect((await client.query(`select id, note from ${t} where id = any($1) order by id`, [[1, 2]])).rows)
        .toEqual([{ id: 1, note: unicode }, { id: 2, note: null }]);
    });

    it('a named prepared statement is parsed once and executed many times', async () => {
      const client = await scope.pgClient();
      const name = uniqueName('doubled');
      const results: unknown[] = [];
      for (let i = 0; i < 5; i += 1) {
        results.push((await client.query({ name, text: 'select $1::int * 2 as doubled, $2::text as tag', values: [i, `run ${i}`] })).rows);
      }
      expect(results).toEqual([0, 1, 2, 3, 4].map((i) => [{ doubled: i * 2, tag: `run ${i}` }]));
      const prepared = await client.query('select name, statement, from_sql from pg_prepared_statements where name = $1', [name]);
      expect(prepared.rows).toEqual([{ name, statement: 'select $1::int * 2 as doubled, $2::text as tag', from_sql: false }]);
    });

    // pg queues client-side by default; `pipeline: true` puts every query on the wire before the first answer.
    it.each([{ pipeline: false }, { pipeline: true }])('1000 queries queued without awaiting each resolve in order (%o)', async (mode) => {
      const client = await scope.pgClient(mode);
      const settled: number[] = [];
      const queries = Array.from({ length: 1000 }, (_, i) => {
        const query = i % 3 === 0
          ? client.query(`select ${i} as i, 'simple' as how`)
          : client.query({ text: 'select $1::int as i, $2::text as how', values: [i, 'extended'], ...(i % 3 === 1 ? { name: 'queued' } : {}) });
        return query.then((result) => {
          settled.push(i);
          return result.rows;
        });
      });
      const rows = await Promise.all(queries);
      expect(rows).toEqual(Array.from({ length: 1000 }, (_, i) => [{ i, how: i % 3 === 0 ? 'simple' : 'extended' }]));
      expect(settled).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    });

    it('LISTEN/NOTIFY delivers payloads between two sessions, and only committed ones', async () => {
      const listener = await scope.pgClient();
      const notifier = await scope.pgClient();
      const channel = uniqueName('chan');
      const inbox = collectNotifications(listener);
      await listener.query(`listen ${channel}`);
      await notifier.query('begin');
      await notifier.query(`notify ${channel}, 'rolled back'`);
      await notifier.query('rollback');
      await notifier.query(`notify ${channel}, 'first: grüße'`);
      await notifier.query('select pg_notify($1, $2)', [channel, 'second '.repeat(1000)]);
      await inbox.waitFor(2);
      expect(inbox.received.map(({ channel: got, payload }) => ({ got, payload })))
        .toEqual([{ got: channel, payload: 'first: grüße' }, { got: channel, payload: 'second '.repeat(1000) }]);
      // The sender's pid in a notification is the upstream backend's: compare it with the server, not BackendKeyData.
      const senderPid = (await notifier.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
      expect(inbox.received[0]?.processId).toBe(senderPid);
    });

    it('COMMIT keeps a transaction\'s effects, ROLLBACK discards them (seen from another session)', async () => {
      const client = await scope.pgClient();
      const observer = await scope.pgClient();
      const t = scope.table('pg_tx');
      await client.query(`create table ${t} (id int primary key)`);
      await client.query('begin');
      await client.query(`insert into ${t} values (1), (2)`);
      expect((await observer.query(`select count(*)::int as n from ${t}`)).rows).toEqual([{ n: 0 }]);
      await client.query('commit');
      await client.query('begin');
      await client.query(`insert into ${t} values (3)`);
      await client.query(`delete from ${t} where id = 1`);
      await client.query('rollback');
      expect((await observer.query(`select array_agg(id order by id) as ids from ${t}`)).rows).toEqual([{ ids: [1, 2] }]);
    });

    it('an error mid-transaction aborts it (25P02 after), and ROLLBACK recovers the session', async () => {
      const client = await scope.pgClient();
      const t = scope.table('pg_tx_error');
      await client.query(`create table ${t} (id int primary key)`);
      await client.query('begin');
      await client.query(`insert into ${t} values (1)`);
      expect(await sqlstateOf(client.query('select 1 / 0'))).toBe('22012');
      expect(await sqlstateOf(client.query(`insert into ${t} values (2)`))).toBe('25P02');
      expect(await sqlstateOf(client.query({ text: 'select $1::int', values: [1] }))).toBe('25P02');
      await client.query('rollback');
      expect((await client.query(`select count(*)::int as n from ${t}`)).rows).toEqual([{ n: 0 }]);
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    });

    it('binary parameters: a Buffer goes in as bytea and comes back identical', async () => {
      const client = await scope.pgClient();
      const bytes = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0x5c, 0x27, 0]), randomBytes(256 * 1024)]);
      const result = await client.query<{ b: Buffer; len: number; sum: string }>(
        'select $1::bytea as b, length($1::bytea) as len, md5($1::bytea) as sum', [bytes]);
      expect(result.rows[0]?.len).toBe(bytes.length);
      expect(result.rows[0]?.sum).toBe(createHash('md5').update(bytes).digest('hex'));
      expect(Buffer.compare(result.rows[0]?.b ?? Buffer.alloc(0), bytes)).toBe(0);
      const t = scope.table('pg_bytea');
      await client.query(`create table ${t} (id int primary key, b bytea)`);
      await client.query(`insert into ${t} values (1, $1), (2, $2)`, [bytes, Buffer.alloc(0)]);
      const back = await client.query<{ b: Buffer }>(`select b from ${t} order by id`);
      expect(back.rows.map((row) => row.b.toString('hex'))).toEqual([bytes.toString('hex'), '']);
    });

    it('binary result format (binary: true) and raw results via custom `types`', async () => {
      // `binary` is a pg client option its typings keep on `defaults` only. pg decodes every DataRow value as UTF-8
      // before the binary parser sees it, so only values whose binary form is valid UTF-8 survive: ints, bool, text.
      const binaryConfig: pg.ClientConfig & { binary: boolean } = { binary: true };
      const binaryClient = await scope.pgClient(binaryConfig);
      const binary = await binaryClient.query(`select 7::int4 as i, $1::int8 as big, 'tëxt'::text as t, true as yes, null::int4 as nothing`, ['258']);
      expect(binary.fields.map((field) => field.format)).toEqual(['binary', 'binary', 'binary', 'binary', 'binary']);
      expect(binary.rows).toEqual([{ i: 7, big: '258', t: 'tëxt', yes: true, nothing: null }]);
      const client = await scope.pgClient();
      const raw = await client.query({
        text: `select 7::int4 as i, '2024-02-29'::date as d, 1.50::numeric as n`,
        types: { getTypeParser: () => (value: string) => `raw:${value}` },
      });
      expect(raw.rows).toEqual([{ i: 'raw:7', d: 'raw:2024-02-29', n: 'raw:1.50' }]);
    });
  });
}
