// Issue 19 defect 3, acceptance (ii): a lease user dropped by hand (DROP ROLE / DROP USER as admin, behind jitgate's
// back) is re-issued at the grant's next login instead of failing every login until the grant ends: that login
// succeeds, an `alert` naming the grant and the resource is recorded, and the new user exists. Concurrent logins
// after the drop share one new user. PostgreSQL and MariaDB, real clients (pg, mysql2) through an in-process jitgate.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';

interface Client {
  read(): Promise<unknown[]>;
  end(): Promise<void>;
}

interface Engine {
  readonly name: string;
  readonly resource: string;
  connect(grant: { id: string; token: string }): Promise<Client>;
  /** What an operator cleaning up by hand would run as admin. */
  dropByHand(username: string): Promise<void>;
  userExists(username: string): Promise<boolean>;
}

let jitgate: JitgateInstance;
let pgDb: ScratchDatabase;
let mysqlDb: ScratchDatabase;
let pgAdmin: pg.Pool;
let mysqlAdmin: mysql.Pool;

const postgres: Engine = {
  name: 'PostgreSQL',
  resource: 'reissue-pg',
  async connect(grant) {
    const endpoint = jitgate.handle.endpointFor('postgres');
    const client = new pg.Client({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: pgDb.name });
    client.on('error', () => {});
    await client.connect();
    return { read: async () => (await client.query('select label from items')).rows, end: () => client.end().catch(() => {}) };
  },
  async dropByHand(username) {
    // The role holds SELECT on the table: DROP ROLE alone would refuse, as it would for the operator.
    await pgAdmin.query(`drop owned by "${username}"`);
    await pgAdmin.query(`drop role "${username}"`);
  },
  userExists: async (username) => (await pgAdmin.query('select 1 from pg_roles where rolname = $1', [username])).rowCount === 1,
};

const mariadb: Engine = {
  name: 'MariaDB',
  resource: 'reissue-mysql',
  async connect(grant) {
    const endpoint = jitgate.handle.endpointFor('mysql');
    const connection = await mysql.createConnection({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: mysqlDb.name });
    connection.on('error', () => {});
    return {
      read: async () => (await connection.query<mysql.RowDataPacket[]>('select label from items'))[0],
      end: () => connection.end().catch(() => {}),
    };
  },
  async dropByHand(username) {
    await mysqlAdmin.query(`drop user '${username}'@'%'`);
  },
  userExists: async (username) => (await mysqlAdmin.query<mysql.RowDataPacket[]>('select 1 from mysql.user where User = ?', [username]))[0].length === 1,
};

async function eventsOf(grant: string, type: string): Promise<Record<string, unknown>[]> {
  await jitgate.handle.audit.flush();
  const events = await jitgate.handle.store.readAuditEvents(0, 100_000);
  return events.filter((event) => event.grantId === grant && event.type === type).map((event) => JSON.parse(event.body) as Record<string, unknown>);
}

const activeUsername = async (grant: string): Promise<string | undefined> =>
  (await jitgate.handle.store.getLeaseByGrant(grant as GrantId))?.username;

beforeAll(async () => {
  [pgDb, mysqlDb] = await Promise.all([createPgDatabase('reissue'), createMysqlDatabase('reissue')]);
  pgAdmin = new pg.Pool({ connectionString: pgDb.url, max: 2 });
  pgAdmin.on('error', () => {});
  mysqlAdmin = mysql.createPool({ uri: mysqlDb.url, connectionLimit: 2 });
  for (const admin of [(sql: string) => pgAdmin.query(sql), (sql: string) => mysqlAdmin.query(sql)]) {
    await admin('create table items (id int primary key, label varchar(20))');
    await admin("insert into items values (1, 'one')");
  }
  jitgate = await startJitgateInstance([
    { name: postgres.resource, protocol: 'postgres', adminUrl: pgDb.url, roles: { readonly: { creation: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      'GRANT USAGE ON SCHEMA public TO "{{name}}"', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}"'] } } },
    { name: mariadb.resource, protocol: 'mysql', adminUrl: mysqlDb.url, roles: { readonly: { creation: [
      "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'", "GRANT SELECT ON `{{database}}`.* TO '{{name}}'@'%'"] } } },
  ]);
});

afterAll(async () => {
  await jitgate?.close();
  await pgAdmin?.end();
  await mysqlAdmin?.end();
  await Promise.all([pgDb?.drop(), mysqlDb?.drop()]);
});

describe.each([postgres, mariadb])('a lease user dropped by hand on $name', (engine) => {
  it('is re-issued at the next login: the login works, an alert names grant and resource, the new user exists', async () => {
    const grant = await jitgate.grant(engine.resource, 'readonly', '10m');
    // A session that connected first: its user exists, and it stays open, so no parked server connection can
    // stand in for a fresh upstream login below.
    const first = await engine.connect(grant);
    expect(await first.read()).toEqual([{ label: 'one' }]);
    const username = await activeUsername(grant.id);
    if (username === undefined) throw new Error('no lease');
    await engine.dropByHand(username);
    expect(await engine.userExists(username)).toBe(false);

    // Three logins at once after the drop: one new user for all of them (one lease per grant, DESIGN §10).
    const clients = await Promise.all([engine.connect(grant), engine.connect(grant), engine.connect(grant)]);
    for (const client of clients) expect(await client.read()).toEqual([{ label: 'one' }]);
    expect(await engine.userExists(username)).toBe(true); // the name derives from the grant: re-created
    expect(await eventsOf(grant.id, 'credential.issued')).toHaveLength(2);
    const alerts = await eventsOf(grant.id, 'alert');
    expect(alerts).toEqual([expect.objectContaining({ severity: 'warning', grant: grant.id })]);
    expect(String(alerts[0]?.message)).toContain(`resource "${engine.resource}"`);
    expect(String(alerts[0]?.message)).toContain(grant.id);
    // The old lease is on record as revoked (verified gone), the new one active.
    const leases = await jitgate.handle.store.listLeases({ grantId: grant.id as GrantId });
    expect(leases).toEqual([expect.objectContaining({ state: 'active', username })]);
    expect(await eventsOf(grant.id, 'credential.revoked')).toEqual([expect.objectContaining({ username, verified: true })]);
    // The new lease's password is in no recorded event.
    const stored = await jitgate.handle.store.getGrant(grant.id as GrantId);
    if (stored === undefined) throw new Error('grant not stored');
    const live = await jitgate.handle.leases.acquire(stored);
    expect(JSON.stringify(await jitgate.handle.store.readAuditEvents(0, 100_000))).not.toContain(live.password.reveal());
    await Promise.all([first, ...clients].map((client) => client.end()));
  });
});
