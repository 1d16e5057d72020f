// The Store contract (test/support/store-contract.ts) against SQLite (a temp file) and PostgreSQL (a scratch database
// on the run's server), plus what only openStore() itself promises.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { createPgDatabase } from '../support/databases.js';
import { describeStoreContract } from '../support/store-contract.js';
import { makeGrant } from '../support/store-fixtures.js';

describeStoreContract({
  name: 'sqlite',
  concurrentInstances: false,
  newLocation: () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-store-'));
    return Promise.resolve({
      url: `sqlite:${join(dir, 'nested', 'jitgate.db')}`, // the parent does not exist yet: the store creates it
      drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    });
  },
});

describeStoreContract({
  name: 'postgres',
  concurrentInstances: true,
  newLocation: () => createPgDatabase('store_contract'),
});

describe('openStore', () => {
  it('creates the SQLite file readable by its owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-store-'));
    try {
      const path = join(dir, 'a', 'b', 'jitgate.db');
      const store = await openStore(`sqlite:${path}`);
      await store.insertGrant(makeGrant());
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has no column that could hold a lease password, ever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-store-'));
    try {
      const path = join(dir, 'jitgate.db');
      await (await openStore(`sqlite:${path}`)).close();
      const db = new Database(path, { readonly: true });
      const columns = (db.pragma('table_info(leases)') as { name: string }[]).map((column) => column.name);
      db.close();
      expect(columns).toContain('username');
      expect(columns.filter((column) => /pass|secret|credential|token/i.test(column))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an in-memory SQLite store', async () => {
    const store = await openStore('sqlite::memory:');
    const grant = makeGrant();
    await store.insertGrant(grant);
    expect(await store.getGrant(grant.id)).toEqual(grant);
    await store.close();
  });

  it('never shows the password of a URL it cannot open', async () => {
    const error: unknown = await openStore('postgres://jitgate:s3cr%40t-pw@127.0.0.1:1/jitgate').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
    expect(text).toContain('postgres://jitgate:***@127.0.0.1:1/jitgate');
    expect(text).not.toMatch(/s3cr/);
    await expect(openStore('mysql://root:hunter2@db/x')).rejects.toThrow(/^store url mysql:\/\/root:\*\*\*@db\/x/);
  });
});
