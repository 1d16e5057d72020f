// Server connection reuse on the MySQL port: a client that leaves with COM_QUIT hands its server connection, reset
// with COM_RESET_CONNECTION and COM_INIT_DB, to the grant's next login with the same capabilities and character set —
// and nothing of its session state comes along. A client that just drops its socket, another character set, or a
// grant that ends get a fresh server connection or none.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs } from '../support/api-client.js';
import { mysqlAdminUrl } from '../support/databases.js';
import { connectionOptions, rowsOf } from '../support/mysql-scenarios/connect.js';
import { createJitgateMysqlTarget, type MysqlTargetHandle } from '../support/mysql-target.js';
import type { JitgateInstance } from '../support/jitgate-instance.js';
import type { GrantId } from '../../src/access/ids.js';

let jitgate: (MysqlTargetHandle & { readonly instance: JitgateInstance }) | undefined;
let admin: mysql.Connection | undefined;

beforeAll(async () => {
  jitgate = await createJitgateMysqlTarget('jitgate (reuse)', { listenerTls: false });
  admin = await mysql.createConnection({ uri: mysqlAdminUrl() });
});

afterAll(async () => {
  await admin?.end();
  await jitgate?.cleanup();
});

function setup(): { jitgate: MysqlTargetHandle & { readonly instance: JitgateInstance }; admin: mysql.Connection } {
  if (jitgate === undefined || admin === undefined) throw new Error('setup failed (see beforeAll)');
  return { jitgate, admin };
}

type Grant = { id: string; token: string };

function connect(grant: Grant, extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  return mysql.createConnection(connectionOptions(setup().jitgate.target, { user: grant.id, password: grant.token, ...extra }));
}

async function one(connection: mysql.Connection, sql: string): Promise<Record<string, unknown>> {
  const [rows] = await connection.query(sql);
  const row = rowsOf(rows)[0];
  if (row === undefined) throw new Error(`no row from ${sql}`);
  return row;
}

async function threadId(connection: mysql.Connection): Promise<number> {
  return Number((await one(connection, 'select connection_id() as id')).id);
}

/** The reset runs after the client has gone: wait until the server shows the thread back in the resource's database. */
async function untilReset(id: number, database: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const [rows] = await setup().admin.query('select db, command from information_schema.processlist where id = ?', [id]);
    const row = rowsOf(rows)[0];
    if (row?.db === database && row.command === 'Sleep') {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the OK is read and the connection parked just after
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`thread ${id} was not reset`);
}

describe('MySQL server connection reuse', () => {
  it('hands a reset server connection to the next login, with none of the last session state', async () => {
    const { jitgate: target, admin: root } = setup();
    const database = target.target.database;
    const grant = await target.instance.grant('clients-mysql', 'readwrite', '10m');
    const first = await connect(grant);
    const id = await threadId(first);
    await first.query('create table if not exists reuse_rows (x int) engine=innodb');
    await first.query("set @carried = 'yes', time_zone = '+05:45', sql_mode = 'ANSI_QUOTES'");
    await first.query('create temporary table scratch (x int)');
    await first.query("prepare stale from 'select 1'");
    await first.query("select get_lock('reuse_lock', 0)");
    await first.query('start transaction');
    await first.query('insert into reuse_rows values (1)');
    await first.query('use information_schema');
    await first.end();
    await untilReset(id, database);

    const second = await connect(grant);
    try {
      expect(await threadId(second)).toBe(id);
      const state = await one(second, `select @carried as carried, @@time_zone as zone, @@sql_mode like '%ANSI_QUOTES%' as ansi,
        database() as db, @@character_set_client as charset, (select count(*) from reuse_rows) as uncommitted`);
      expect(state).toEqual({ carried: null, zone: 'SYSTEM', ansi: 0, db: database, charset: 'utf8mb4', uncommitted: '0' });
      await expect(second.query('select * from scratch')).rejects.toThrow(/doesn't exist/);
      await expect(second.query('execute stale')).rejects.toThrow(/Unknown prepared statement/);
      expect(Number((await one(root, "select is_free_lock('reuse_lock') as free")).free)).toBe(1);
    } finally {
      await second.end();
    }
  });

  it('does not reuse a connection its client dropped without COM_QUIT, nor one for another character set', async () => {
    const grant = await setup().jitgate.instance.grant('clients-mysql', 'readwrite', '10m');
    const dropped = await connect(grant);
    const droppedId = await threadId(dropped);
    dropped.destroy();
    const next = await connect(grant);
    const nextId = await threadId(next);
    expect(nextId).not.toBe(droppedId);
    await next.end();
    await untilReset(nextId, setup().jitgate.target.database);
    const latin1 = await connect(grant, { charset: 'latin1_swedish_ci' });
    try {
      expect(await threadId(latin1)).not.toBe(nextId);
    } finally {
      await latin1.end();
    }
    const utf8 = await connect(grant);
    try {
      expect(await threadId(utf8)).toBe(nextId);
    } finally {
      await utf8.end();
    }
  });

  it('closes parked server connections when the grant ends, so the lease user leaves nothing behind', async () => {
    const { jitgate: target, admin: root } = setup();
    const grant = await target.instance.grant('clients-mysql', 'readwrite', '10m');
    const clients = await Promise.all([connect(grant), connect(grant), connect(grant)]);
    const ids = await Promise.all(clients.map(threadId));
    await Promise.all(clients.map((client) => client.end()));
    for (const id of ids) await untilReset(id, target.target.database);
    const lease = await target.instance.handle.store.getLeaseByGrant(grant.id as GrantId);
    const user = lease?.username ?? '';
    const counts = async (): Promise<{ accounts: number; connections: number }> => {
      const row = await one(root, `select (select count(*) from mysql.user where user = '${user}') as accounts,
        (select count(*) from information_schema.processlist where user = '${user}') as connections`);
      return { accounts: Number(row.accounts), connections: Number(row.connections) };
    };
    expect(await counts()).toEqual({ accounts: 1, connections: 3 });

    expect((await apiAs(target.instance.handle.apiUrl, 'admin').post(`/v1/grants/${grant.id}/revoke`)).status).toBe(200);
    let after = await counts();
    for (let attempt = 0; attempt < 100 && (after.accounts !== 0 || after.connections !== 0); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      after = await counts();
    }
    expect(after).toEqual({ accounts: 0, connections: 0 });
  });
});
