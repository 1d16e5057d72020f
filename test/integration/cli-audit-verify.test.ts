// `jitgate audit verify --config` offline (issue 19, defect 6): verification never creates or migrates a store. A
// missing store, one without jitgate's tables and one without audit events are errors (exit 1) that say so — on
// SQLite and on PostgreSQL — and the store is exactly as it was afterwards.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import SqliteDatabase from 'better-sqlite3';
import { makeEvents } from '../support/store-fixtures.js';
import { runJitgate } from '../support/cli-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitgate-verify-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function configFor(name: string, storeUrl: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `store: { url: ${JSON.stringify(storeUrl)} }\naudit: { file: "-" }\n`);
  return path;
}

const verify = (config: string) => runJitgate(['audit', 'verify', '--config', config]);

describe('audit verify --config on SQLite', () => {
  it('a store file that does not exist: exit 1, says so, and creates nothing', async () => {
    const path = join(dir, 'nowhere', 'jitgate.db');
    const result = await verify(configFor('missing', `sqlite:${path}`));
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`error: no store at ${path}: nothing to verify (is store.url right?)\n`);
    expect(result.code).toBe(1);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });

  it('a file that is not a jitgate store (no audit table): exit 1, and the file is left untouched', async () => {
    const path = join(dir, 'empty.db');
    writeFileSync(path, '');
    const result = await verify(configFor('empty', `sqlite:${path}`));
    expect(result.stderr).toBe(`error: store sqlite:${path} has no audit trail (no audit_events table): not a jitgate store, or never started\n`);
    expect(result.code).toBe(1);
    expect(statSync(path).size).toBe(0);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('a jitgate store without audit events: exit 1, not "chain OK: 0 events", and no write to it', async () => {
    const path = join(dir, 'fresh.db');
    await (await openStore(`sqlite:${path}`)).close();
    const before = readFileSync(path);
    const result = await verify(configFor('fresh', `sqlite:${path}`));
    expect(result.stderr).toBe(`error: store sqlite:${path} holds no audit events: nothing to verify\n`);
    expect(result.stdout).not.toContain('chain OK');
    expect(result.code).toBe(1);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('a store with events: chain OK read-only (the file unchanged), and a tampered event found', async () => {
    const path = join(dir, 'events.db');
    const store = await openStore(`sqlite:${path}`);
    await store.appendAuditEvents(makeEvents(3));
    await store.close();
    const before = readFileSync(path);
    const ok = await verify(configFor('events', `sqlite:${path}`));
    expect(ok.stdout).toMatch(/^audit chain OK: 3 events, head [0-9a-f]{64}\n$/);
    expect(ok.code).toBe(0);
    expect(readFileSync(path).equals(before)).toBe(true);

    const db = new SqliteDatabase(path);
    db.prepare("update audit_events set body = replace(body, '}', ',\"x\":1}') where seq = 2").run();
    db.close();
    const broken = await verify(configFor('events', `sqlite:${path}`));
    expect(broken.stdout).toMatch(/^audit chain BROKEN at event #2 /);
    expect(broken.code).toBe(1);
  });

  it('an in-memory store cannot be verified offline', async () => {
    const result = await verify(configFor('memory', 'sqlite::memory:'));
    expect(result.stderr).toContain('an in-memory store');
    expect(result.code).toBe(1);
  });
});

describe('audit verify --config on PostgreSQL', () => {
  const database = `jg_verify_${process.pid}`;
  let admin: pg.Client;
  let storeUrl: string;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    await admin.query(`create database ${database}`);
    const url = new URL(inject('pgAdminUrl'));
    url.pathname = `/${database}`;
    storeUrl = url.toString();
  });
  afterAll(async () => {
    await admin?.query(`drop database if exists ${database} with (force)`);
    await admin?.end();
  });

  const tablesIn = async (): Promise<string[]> => {
    const client = new pg.Client({ connectionString: storeUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public' order by 1");
      return rows.map((row) => row.tablename);
    } finally {
      await client.end();
    }
  };

  it('a database without jitgate tables: exit 1, says so, and creates no table', async () => {
    const result = await verify(configFor('pg-empty', storeUrl));
    expect(result.stderr).toMatch(/^error: store postgres:\/\/.+ has no audit trail \(no audit_events table\): not a jitgate store, or never started\n$/);
    expect(result.code).toBe(1);
    expect(await tablesIn()).toEqual([]);
  });

  it('a migrated store without events: exit 1 with "holds no audit events"', async () => {
    await (await openStore(storeUrl)).close();
    const tables = await tablesIn();
    const result = await verify(configFor('pg-fresh', storeUrl));
    expect(result.stderr).toMatch(/holds no audit events: nothing to verify\n$/);
    expect(result.code).toBe(1);
    expect(await tablesIn()).toEqual(tables);
  });
});
