// Server connection reuse on the Postgres port: a client that leaves cleanly hands its server connection, reset with
// DISCARD ALL, to the grant's next login with the same startup parameters — and nothing of its session state comes
// along. A client that leaves mid-transaction, different parameters, or a grant that ends get a fresh server or none.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { apiAs } from '../support/api-client.js';
import { createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { preparePgScratchDatabase, READWRITE_ROLE_STATEMENTS } from '../support/pg-target.js';
import { adminQuery } from '../support/pg-own-server.js';

let db: ScratchDatabase;
let instance: JitgateInstance;

beforeAll(async () => {
  db = await createPgDatabase('reuse');
  await preparePgScratchDatabase(db);
  instance = await startJitgateInstance([{
    name: 'reuse-pg', protocol: 'postgres', adminUrl: db.url, roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS } },
  }]);
});

afterAll(async () => {
  await instance?.close();
  await db?.drop();
});

type Grant = { id: string; token: string };

async function connect(grant: Grant, applicationName = 'reuse-test'): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: instance.handle.endpointFor('postgres').port, user: grant.id,
    password: grant.token, database: db.name, application_name: applicationName });
  await client.connect();
  return client;
}

async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return rows[0]?.pid ?? -1;
}

/** The reset runs after the client has gone: wait until the server shows the backend idle again. */
async function untilIdle(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const [row] = await adminQuery<{ query: string; state: string }>(db.url, `select query, state from pg_stat_activity where pid = ${pid}`);
    if (row?.state === 'idle' && row.query === 'DISCARD ALL') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`backend ${pid} was not reset`);
}

describe('server connection reuse', () => {
  it('hands a reset server connection to the next login, with none of the last session state', async () => {
    const grant = await instance.grant('reuse-pg', 'readwrite', '10m');
    const first = await connect(grant);
    const pid = await backendPid(first);
    await first.query("set search_path to pg_catalog; set timezone to 'Pacific/Chatham'");
    await first.query('create temp table scratch (x int)');
    await first.query('prepare stale as select 1');
    await first.query('listen reuse_channel');
    await first.end();
    await untilIdle(pid);

    const second = await connect(grant);
    try {
      expect(await backendPid(second)).toBe(pid);
      const { rows } = await second.query<{ path: string; zone: string; temp: string | null; prepared: number; channels: number }>(
        `select current_setting('search_path') as path, current_setting('timezone') as zone, to_regclass('pg_temp.scratch')::text as temp,
           (select count(*)::int from pg_prepared_statements) as prepared, (select count(*)::int from pg_listening_channels()) as channels`);
      expect(rows[0]).toEqual({ path: '"$user", public', zone: expect.not.stringMatching(/Chatham/) as unknown as string, temp: null, prepared: 0, channels: 0 });
      // The client was told the server's current values, not the ones the last session had set.
      const reported = (second as unknown as { connection: { parameters?: Record<string, string> } });
      expect(JSON.stringify(reported.connection.parameters ?? {})).not.toContain('Chatham');
    } finally {
      await second.end();
    }
  });

  it('activates the grant at its first login and leaves the activation time alone at later ones', async () => {
    const grant = await instance.grant('reuse-pg', 'readwrite', '10m');
    expect(await instance.handle.store.getGrant(grant.id as GrantId)).toMatchObject({ state: 'approved', activatedAt: null });
    await (await connect(grant)).end();
    const activated = await instance.handle.store.getGrant(grant.id as GrantId);
    expect(activated).toMatchObject({ state: 'active', activatedAt: expect.any(Date) as unknown as Date });
    await (await connect(grant)).end();
    expect(await instance.handle.store.getGrant(grant.id as GrantId)).toMatchObject({ state: 'active', activatedAt: activated?.activatedAt, version: activated?.version });
  });

  it('does not reuse a server left inside a transaction, nor one opened with other startup parameters', async () => {
    const grant = await instance.grant('reuse-pg', 'readwrite', '10m');
    const inTransaction = await connect(grant);
    const firstPid = await backendPid(inTransaction);
    await inTransaction.query('begin');
    await inTransaction.end();
    const next = await connect(grant);
    const nextPid = await backendPid(next);
    expect(nextPid).not.toBe(firstPid);
    await next.end();
    await untilIdle(nextPid);
    const other = await connect(grant, 'another-app');
    try {
      expect(await backendPid(other)).not.toBe(nextPid);
    } finally {
      await other.end();
    }
  });

  it('closes parked server connections when the grant ends, so the lease user leaves nothing behind', async () => {
    const grant = await instance.grant('reuse-pg', 'readwrite', '10m');
    const clients = await Promise.all([connect(grant), connect(grant), connect(grant)]);
    const pids = await Promise.all(clients.map(backendPid));
    await Promise.all(clients.map((client) => client.end()));
    for (const pid of pids) await untilIdle(pid);
    const lease = await instance.handle.store.getLeaseByGrant(grant.id as GrantId);
    const user = lease?.username ?? '';
    const [before] = await adminQuery<{ backends: number }>(db.url, `select count(*)::int as backends from pg_stat_activity where usename = '${user}'`);
    expect(before?.backends).toBe(3);

    expect((await apiAs(instance.handle.apiUrl, 'admin').post(`/v1/grants/${grant.id}/revoke`)).status).toBe(200);
    let after: { roles: number; backends: number } | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      [after] = await adminQuery<{ roles: number; backends: number }>(db.url,
        `select (select count(*)::int from pg_roles where rolname = '${user}') as roles,
                (select count(*)::int from pg_stat_activity where usename = '${user}') as backends`);
      if (after?.roles === 0 && after.backends === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(after).toEqual({ roles: 0, backends: 0 });
  });
});
