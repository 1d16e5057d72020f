// Issue 19 defect 2c (and the "not a loop" half of 3c): when the database itself refuses the lease user at the
// upstream login, the client gets the server's own errno / SQLSTATE / message — the server's answer about the lease
// user — instead of jitgate's 1040 / 08006 "upstream unavailable", which stays for failures that are no answer at all
// (connection refused). A password the database rejects is re-issued once; a second rejection reaches the client
// with the server's code. Real servers, real clients (mysql2, pg) through an in-process jitgate.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { TcpProxy } from '../support/tcp-proxy.js';

let jitgate: JitgateInstance;
let pgDb: ScratchDatabase;
let mysqlDb: ScratchDatabase;
const proxies: TcpProxy[] = [];

const PG_CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`;
const MYSQL_CREATE = "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'";

beforeAll(async () => {
  [pgDb, mysqlDb] = await Promise.all([createPgDatabase('refusals'), createMysqlDatabase('refusals')]);
  const [pgProxy, mysqlProxy] = await Promise.all([pgDb, mysqlDb].map((db) => {
    const url = new URL(db.url);
    return TcpProxy.start(url.hostname, Number(url.port));
  }));
  if (pgProxy === undefined || mysqlProxy === undefined) throw new Error('proxies not started');
  proxies.push(pgProxy, mysqlProxy);
  jitgate = await startJitgateInstance([
    {
      name: 'pg', protocol: 'postgres', adminUrl: pgDb.url, roles: {
        nologin: { creation: [`CREATE ROLE "{{name}}" WITH NOLOGIN PASSWORD '{{password}}'`] },
        // The user exists, but not with the password jitgate holds: every login is refused, however often re-issued.
        repassworded: { creation: [PG_CREATE, `ALTER ROLE "{{name}}" PASSWORD 'NotTheLeasePassword0123456789'`] },
      },
    },
    { name: 'pg-proxied', protocol: 'postgres', adminUrl: pgProxy.rewrite(pgDb.url), roles: { readonly: { creation: [PG_CREATE] } } },
    {
      name: 'my', protocol: 'mysql', adminUrl: mysqlDb.url, roles: {
        // Privileges on another database only: the login to the resource's database is refused by the server.
        elsewhere: { creation: [MYSQL_CREATE, "GRANT SELECT ON `jitgate_nowhere`.* TO '{{name}}'@'%'"] },
        repassworded: { creation: [MYSQL_CREATE, "GRANT SELECT ON `{{database}}`.* TO '{{name}}'@'%'",
          "ALTER USER '{{name}}'@'%' IDENTIFIED BY 'NotTheLeasePassword0123456789'"] },
      },
    },
    { name: 'my-proxied', protocol: 'mysql', adminUrl: mysqlProxy.rewrite(mysqlDb.url),
      roles: { readonly: { creation: [MYSQL_CREATE, "GRANT SELECT ON `{{database}}`.* TO '{{name}}'@'%'"] } } },
  ]);
});

afterAll(async () => {
  await jitgate?.close();
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  await Promise.all([pgDb?.drop(), mysqlDb?.drop()]);
});

async function pgLogin(resource: string, role: string): Promise<{ error: pg.DatabaseError; grant: string; username: string }> {
  const grant = await jitgate.grant(resource, role, '10m');
  const endpoint = jitgate.handle.endpointFor('postgres');
  const client = new pg.Client({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: pgDb.name });
  client.on('error', () => {});
  const error = await client.connect().then(() => undefined, (caught: unknown) => caught as pg.DatabaseError);
  await client.end().catch(() => {});
  if (error === undefined) throw new Error('the login was expected to fail');
  return { error, grant: grant.id, username: (await jitgate.handle.store.listLeases({ grantId: grant.id as GrantId }))[0]?.username ?? '' };
}

interface MysqlRefusal { readonly errno: number; readonly sqlState: string; readonly sqlMessage: string }

async function mysqlLogin(resource: string, role: string): Promise<{ error: MysqlRefusal; grant: string; username: string }> {
  const grant = await jitgate.grant(resource, role, '10m');
  const endpoint = jitgate.handle.endpointFor('mysql');
  const error = await mysql.createConnection({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: mysqlDb.name })
    .then(async (connection) => { await connection.end(); return undefined; }, (caught: unknown) => caught as MysqlRefusal);
  if (error === undefined) throw new Error('the login was expected to fail');
  return { error, grant: grant.id, username: (await jitgate.handle.store.listLeases({ grantId: grant.id as GrantId }))[0]?.username ?? '' };
}

async function eventsOf(grant: string, type: string): Promise<Record<string, unknown>[]> {
  await jitgate.handle.audit.flush();
  const events = await jitgate.handle.store.readAuditEvents(0, 100_000);
  return events.filter((event) => event.grantId === grant && event.type === type).map((event) => JSON.parse(event.body) as Record<string, unknown>);
}

describe('PostgreSQL: the server\'s refusal of the lease user reaches the client', () => {
  it('a role that may not log in: the server\'s 28000, not 08006', async () => {
    const { error, username } = await pgLogin('pg', 'nologin');
    expect(error.code).toBe('28000');
    expect(error.message).toBe(`role "${username}" is not permitted to log in`);
    expect(error.severity).toBe('FATAL');
  });

  it('a password the server rejects: re-issued once, then the server\'s 28P01 (no loop), with an alert', async () => {
    const { error, grant, username } = await pgLogin('pg', 'repassworded');
    expect(error.code).toBe('28P01');
    expect(error.message).toBe(`password authentication failed for user "${username}"`);
    expect(await eventsOf(grant, 'credential.issued')).toHaveLength(2);
    expect(await eventsOf(grant, 'alert')).toHaveLength(1);
  });

  it('a database that does not answer: still 08006 "upstream unavailable"', async () => {
    const grant = await jitgate.grant('pg-proxied', 'readonly', '10m');
    const stored = await jitgate.handle.store.getGrant(grant.id as GrantId);
    if (stored === undefined) throw new Error('grant not stored');
    await jitgate.handle.leases.acquire(stored);
    const [proxy] = proxies;
    await proxy?.stop();
    try {
      const endpoint = jitgate.handle.endpointFor('postgres');
      const client = new pg.Client({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: pgDb.name });
      client.on('error', () => {});
      const error = await client.connect().then(() => undefined, (caught: unknown) => caught as pg.DatabaseError);
      await client.end().catch(() => {});
      expect(error?.code).toBe('08006');
      expect(error?.message).toMatch(/ECONNREFUSED|upstream/);
    } finally {
      await proxy?.resume();
    }
  });
});

describe('MySQL: the server\'s refusal of the lease user reaches the client', () => {
  it('no privilege on the resource\'s database: the server\'s 1044 / 42000 naming the lease user, not 1040', async () => {
    const { error, username } = await mysqlLogin('my', 'elsewhere');
    expect(error).toMatchObject({ errno: 1044, sqlState: '42000' });
    expect(error.sqlMessage).toBe(`Access denied for user '${username}'@'%' to database '${mysqlDb.name}'`);
  });

  it('a password the server rejects: re-issued once, then the server\'s 1045 (no loop), with an alert', async () => {
    const { error, grant, username } = await mysqlLogin('my', 'repassworded');
    expect(error).toMatchObject({ errno: 1045, sqlState: '28000' });
    expect(error.sqlMessage).toMatch(new RegExp(`^Access denied for user '${username}'@'[^']+' \\(using password: YES\\)$`));
    expect(await eventsOf(grant, 'credential.issued')).toHaveLength(2);
    expect(await eventsOf(grant, 'alert')).toHaveLength(1);
  });

  it('a database that does not answer: still 1040 / 08004 "could not connect"', async () => {
    const grant = await jitgate.grant('my-proxied', 'readonly', '10m');
    const stored = await jitgate.handle.store.getGrant(grant.id as GrantId);
    if (stored === undefined) throw new Error('grant not stored');
    await jitgate.handle.leases.acquire(stored);
    const proxy = proxies[1];
    await proxy?.stop();
    try {
      const endpoint = jitgate.handle.endpointFor('mysql');
      const error = await mysql.createConnection({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: mysqlDb.name })
        .then(async (connection) => { await connection.end(); return undefined; }, (caught: unknown) => caught as MysqlRefusal);
      expect(error).toMatchObject({ errno: 1040, sqlState: '08004' });
      expect(error?.sqlMessage).toMatch(/^jitgate could not connect to the database: .*ECONNREFUSED/);
    } finally {
      await proxy?.resume();
    }
  });
});
