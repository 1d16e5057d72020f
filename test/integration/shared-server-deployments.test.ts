// Issue 19 defect 3, acceptance (i): two jitgate deployments ("staging" and "production"), each with its own SQLite
// store, manage users on the same PostgreSQL and MariaDB servers. Each has live grants whose sessions connected
// through it (so their users exist); each is restarted in turn on its own store, with the start sweep on. Neither
// loses a user of the other: the other's users still exist on both servers, its open sessions still answer, and new
// logins through it still work. Real servers, real clients (pg, mysql2) through in-process jitgates.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { apiAs } from '../support/api-client.js';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance, type TestResource } from '../support/jitgate-instance.js';

interface Client {
  /** The table's rows, read through jitgate. */
  read(): Promise<unknown[]>;
  end(): Promise<void>;
}

interface Deployment {
  instance: JitgateInstance;
  readonly grants: { readonly pg: { id: string; token: string }; readonly mysql: { id: string; token: string } };
  clients: Client[];
}

let pgDb: ScratchDatabase;
let mysqlDb: ScratchDatabase;
let pgAdmin: pg.Pool;
let mysqlAdmin: mysql.Pool;
const deployments: Record<'staging' | 'production', Deployment | undefined> = { staging: undefined, production: undefined };

function resources(): TestResource[] {
  return [
    { name: 'shared-pg', protocol: 'postgres', adminUrl: pgDb.url, roles: { readonly: { creation: [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      'GRANT USAGE ON SCHEMA public TO "{{name}}"', 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}"'] } } },
    { name: 'shared-mysql', protocol: 'mysql', adminUrl: mysqlDb.url, roles: { readonly: { creation: [
      "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'", "GRANT SELECT ON `{{database}}`.* TO '{{name}}'@'%'"] } } },
  ];
}

const start = (dataDir?: string): Promise<JitgateInstance> =>
  startJitgateInstance(resources(), { sweepOnStart: true, ...(dataDir === undefined ? {} : { dataDir }) });

async function connectPg(instance: JitgateInstance, grant: { id: string; token: string }): Promise<Client> {
  const endpoint = instance.handle.endpointFor('postgres');
  const client = new pg.Client({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: pgDb.name });
  client.on('error', () => {});
  await client.connect();
  return { read: async () => (await client.query('select label from items order by id')).rows, end: () => client.end().catch(() => {}) };
}

async function connectMysql(instance: JitgateInstance, grant: { id: string; token: string }): Promise<Client> {
  const endpoint = instance.handle.endpointFor('mysql');
  const connection = await mysql.createConnection({ host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: mysqlDb.name });
  connection.on('error', () => {});
  return {
    read: async () => (await connection.query<mysql.RowDataPacket[]>('select label from items order by id'))[0],
    end: () => connection.end().catch(() => {}),
  };
}

/** Both clients of the deployment's grants, connected through its jitgate. */
async function connectAll(deployment: Deployment): Promise<Client[]> {
  return [await connectPg(deployment.instance, deployment.grants.pg), await connectMysql(deployment.instance, deployment.grants.mysql)];
}

/** The database users the deployment's store says its grants hold now. */
async function usersOf(deployment: Deployment): Promise<{ pg: string; mysql: string }> {
  const active = async (grant: string): Promise<string> => {
    const lease = await deployment.instance.handle.store.getLeaseByGrant(grant as GrantId);
    if (lease === undefined) throw new Error(`no active lease for ${grant}`);
    return lease.username;
  };
  return { pg: await active(deployment.grants.pg.id), mysql: await active(deployment.grants.mysql.id) };
}

async function existsOnServers(users: { pg: string; mysql: string }): Promise<{ pg: boolean; mysql: boolean }> {
  const pgRows = await pgAdmin.query('select 1 from pg_roles where rolname = $1', [users.pg]);
  const [mysqlRows] = await mysqlAdmin.query<mysql.RowDataPacket[]>('select 1 from mysql.user where User = ?', [users.mysql]);
  return { pg: pgRows.rowCount === 1, mysql: mysqlRows.length === 1 };
}

const ROWS = [{ label: 'one' }, { label: 'two' }];

/** Closes the deployment and starts it again on the same store; its first sweep has run when this returns. */
async function restart(deployment: Deployment): Promise<void> {
  const { dataDir } = deployment.instance;
  const before = deployment.instance.handle.deployment;
  await Promise.all(deployment.clients.map((client) => client.end()));
  await deployment.instance.close();
  deployment.instance = await start(dataDir);
  expect(deployment.instance.handle.deployment).toBe(before); // the id lives in the store
  const report = await deployment.instance.handle.sweep;
  expect(report?.unreachable).toEqual([]);
}

/** The other deployment is untouched: its users exist on both servers, its sessions answer, a new login works. */
async function expectIntact(other: Deployment, users: { pg: string; mysql: string }): Promise<void> {
  expect(await existsOnServers(users)).toEqual({ pg: true, mysql: true });
  for (const client of other.clients) expect(await client.read()).toEqual(ROWS);
  const fresh = await connectAll(other);
  for (const client of fresh) expect(await client.read()).toEqual(ROWS);
  other.clients.push(...fresh);
  expect(await usersOf(other)).toEqual(users); // the new logins used the same users: nothing was re-issued
}

beforeAll(async () => {
  [pgDb, mysqlDb] = await Promise.all([createPgDatabase('two_deployments'), createMysqlDatabase('two_deployments')]);
  pgAdmin = new pg.Pool({ connectionString: pgDb.url, max: 2 });
  pgAdmin.on('error', () => {});
  mysqlAdmin = mysql.createPool({ uri: mysqlDb.url, connectionLimit: 2 });
  for (const admin of [(sql: string) => pgAdmin.query(sql), (sql: string) => mysqlAdmin.query(sql)]) {
    await admin('create table items (id int primary key, label varchar(20))');
    await admin("insert into items values (1, 'one'), (2, 'two')");
  }
  for (const name of ['staging', 'production'] as const) {
    const instance = await start();
    await instance.handle.sweep;
    const grants = { pg: await instance.grant('shared-pg', 'readonly'), mysql: await instance.grant('shared-mysql', 'readonly') };
    const deployment: Deployment = { instance, grants, clients: [] };
    deployment.clients = await connectAll(deployment);
    deployments[name] = deployment;
  }
});

afterAll(async () => {
  for (const deployment of Object.values(deployments)) {
    if (deployment === undefined) continue;
    await Promise.all(deployment.clients.map((client) => client.end()));
    // Revoked through the API, so the users go now rather than with the next start's sweep.
    for (const grant of [deployment.grants.pg, deployment.grants.mysql]) await apiAs(deployment.instance.handle.apiUrl, 'dev').post(`/v1/grants/${grant.id}/revoke`);
    await deployment.instance.close();
  }
  await pgAdmin?.end();
  await mysqlAdmin?.end();
  await Promise.all([pgDb?.drop(), mysqlDb?.drop()]);
});

describe('two deployments on the same database servers', () => {
  it('have different deployment ids, and their users carry them', async () => {
    const { staging, production } = deployments;
    if (staging === undefined || production === undefined) throw new Error('not started');
    expect(staging.instance.handle.deployment).not.toBe(production.instance.handle.deployment);
    for (const deployment of [staging, production]) {
      const mark = deployment.instance.handle.deployment.slice(0, 5);
      const users = await usersOf(deployment);
      expect(users.pg).toMatch(new RegExp(`^jg_${mark}_readonly_[a-z2-7]{20}$`));
      expect(users.mysql).toMatch(new RegExp(`^jg_${mark}_re_[a-z2-7]{20}$`));
      expect(await existsOnServers(users)).toEqual({ pg: true, mysql: true });
    }
  });

  it('restarting staging leaves production\'s users, sessions and logins alone', async () => {
    const { staging, production } = deployments;
    if (staging === undefined || production === undefined) throw new Error('not started');
    const productionUsers = await usersOf(production);
    await restart(staging);
    expect((await staging.instance.handle.sweep)?.foreign).toBeGreaterThanOrEqual(2);
    await expectIntact(production, productionUsers);
    // Staging's own clients come back: its restarted process issues its users anew (the old passwords died with it).
    staging.clients = await connectAll(staging);
    for (const client of staging.clients) expect(await client.read()).toEqual(ROWS);
  }, 60_000);

  it('then restarting production leaves staging\'s users, sessions and logins alone', async () => {
    const { staging, production } = deployments;
    if (staging === undefined || production === undefined) throw new Error('not started');
    const stagingUsers = await usersOf(staging);
    await restart(production);
    await expectIntact(staging, stagingUsers);
    production.clients = await connectAll(production);
    for (const client of production.clients) expect(await client.read()).toEqual(ROWS);
  }, 60_000);
});
