// `audit.durability: fsync` (DESIGN §6): a statement's result reaches the client only once its event is in both
// sinks — the store and the JSON-lines file. Checked from outside after every reply, on both ports, with real
// clients (pg, mysql2); under `os` with a slow pace the same check fails, which is what makes it a test.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { clientSuiteRoleStatements } from '../support/mysql-target.js';
import { preparePgScratchDatabase, READWRITE_ROLE_STATEMENTS } from '../support/pg-target.js';

let pgDb: ScratchDatabase;
let myDb: ScratchDatabase;
const instances: JitgateInstance[] = [];

beforeAll(async () => {
  pgDb = await createPgDatabase('durable');
  await preparePgScratchDatabase(pgDb);
  myDb = await createMysqlDatabase('durable');
});

afterAll(async () => {
  for (const instance of instances) await instance.close();
  await pgDb?.drop();
  await myDb?.drop();
});

/** A pace far longer than a reply takes: under `os` the event is still queued when the client has its result. */
const SLOW_PACE_MS = 400;

async function gateway(durability: 'os' | 'fsync'): Promise<JitgateInstance> {
  const instance = await startJitgateInstance([
    { name: 'durable-pg', protocol: 'postgres', adminUrl: pgDb.url, roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS } } },
    { name: 'durable-my', protocol: 'mysql', adminUrl: myDb.url, roles: { readwrite: { creation: clientSuiteRoleStatements(myDb.name) } } },
  ], { audit: { durability, batchMaxDelayMs: SLOW_PACE_MS } });
  instances.push(instance);
  return instance;
}

/** Whether a statement event with `marker` in its SQL is in the store and in the JSON-lines file right now. */
function recorded(instance: JitgateInstance, marker: string): { store: boolean; stream: boolean } {
  const db = new Database(join(instance.dataDir, 'jitgate.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("select count(*) as n from audit_events where type = 'statement' and body like ?").get(`%${marker}%`) as { n: number };
    const stream = readFileSync(join(instance.dataDir, 'audit.jsonl'), 'utf8').includes(marker);
    return { store: row.n > 0, stream };
  } finally {
    db.close();
  }
}

async function pgSession(instance: JitgateInstance): Promise<pg.Client> {
  const grant = await instance.grant('durable-pg', 'readwrite', '10m');
  const client = new pg.Client({ host: '127.0.0.1', port: instance.handle.endpointFor('postgres').port, user: grant.id, password: grant.token, database: pgDb.name });
  await client.connect();
  return client;
}

async function mysqlSession(instance: JitgateInstance): Promise<mysql.Connection> {
  const grant = await instance.grant('durable-my', 'readwrite', '10m');
  return mysql.createConnection({ host: '127.0.0.1', port: instance.handle.endpointFor('mysql').port, user: grant.id, password: grant.token, database: myDb.name });
}

/**
 * Runs ten statements, each returning its marker (`run` alternates protocols by index), and checks after every reply
 * that both sinks already hold it; ten statements take well under ten pace periods (group commit, not the pace).
 */
async function expectEachReplyRecorded(instance: JitgateInstance, prefix: string, run: (marker: string, index: number) => Promise<string | undefined>): Promise<void> {
  const started = performance.now();
  for (let index = 0; index < 10; index++) {
    const marker = `${prefix}_${index}`;
    expect(await run(marker, index)).toBe(marker);
    expect(recorded(instance, marker), marker).toEqual({ store: true, stream: true });
  }
  expect(performance.now() - started).toBeLessThan(10 * SLOW_PACE_MS);
}

describe('audit.durability', () => {
  it('fsync: every Postgres result (simple and extended protocol) arrives after its event is in the store and the stream', async () => {
    const instance = await gateway('fsync');
    const client = await pgSession(instance);
    try {
      await expectEachReplyRecorded(instance, 'durable_pg', async (marker, index) => {
        const { rows } = index % 2 === 0 ? await client.query(`select '${marker}' as m`) : await client.query({ text: `select $1::text as m, '${marker}' as k`, values: [marker] });
        return rows[0]?.m;
      });
    } finally {
      await client.end();
    }
  });

  it('fsync: every MySQL result (text and prepared) arrives after its event is in the store and the stream', async () => {
    const instance = await gateway('fsync');
    const connection = await mysqlSession(instance);
    try {
      await expectEachReplyRecorded(instance, 'durable_my', async (marker, index) => {
        const [rows] = index % 2 === 0 ? await connection.query(`select '${marker}' as m`) : await connection.execute(`select ? as m, '${marker}' as k`, [marker]);
        return (rows as { m: string }[])[0]?.m;
      });
    } finally {
      await connection.end();
    }
  });

  it('os: the result does not wait — with a slow pace the event is not yet stored when the client has it', async () => {
    const instance = await gateway('os');
    const client = await pgSession(instance);
    try {
      const { rows } = await client.query("select 'durable_os_0' as m");
      expect(rows[0]?.m).toBe('durable_os_0');
      expect(recorded(instance, 'durable_os_0').store).toBe(false);
    } finally {
      await client.end();
    }
  });
});
