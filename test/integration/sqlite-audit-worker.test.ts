// The audit worker owns the audit appends of a SQLite file store: the chain it writes is the one the main connection
// reads, a failing append rejects with SQLite's own error (and the next one works), and close leaves no thread behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { auditWorkerUrl, SqliteAuditWorkerClient } from '../../src/store/sqlite-audit-client.js';
import { chainProblems, makeEvents } from '../support/store-fixtures.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'jitgate-audit-worker-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe('SQLite audit worker', () => {
  it('runs the compiled worker when this module is TypeScript source, and says so when it is not built', () => {
    expect(auditWorkerUrl().pathname).toMatch(/\/dist\/src\/store\/sqlite-audit-worker\.js$/);
    expect(() => auditWorkerUrl(pathToFileURL('/nowhere/src/store/sqlite-audit-client.ts').href))
      .toThrow('the audit worker is not built (/nowhere/dist/src/store/sqlite-audit-worker.js): run npm run build');
    expect(auditWorkerUrl('file:///opt/jitgate/dist/src/store/sqlite-audit-client.js').pathname).toBe('/opt/jitgate/dist/src/store/sqlite-audit-worker.js');
  });

  it('appends from the worker what the store reads on its own connection, in one unbroken chain', async () => {
    const store = await openSqliteStore(join(dir, 'jitgate.db'));
    try {
      const batches = await Promise.all(Array.from({ length: 20 }, () => store.appendAuditEvents(makeEvents(50))));
      expect(batches.flat().map((event) => event.seq)).toEqual(Array.from({ length: 1_000 }, (_, index) => index + 1));
      const stored = await store.readAuditEvents(0, 2_000);
      expect(stored).toEqual(batches.flat());
      expect(chainProblems(stored)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('rejects a failing append with the SQLite error and keeps serving the next', async () => {
    const file = join(dir, 'bare.db');
    new SqliteDatabase(file).close(); // a file without jitgate's schema: the insert fails
    const client = new SqliteAuditWorkerClient(file);
    await expect(client.append(makeEvents(1))).rejects.toThrow(/no such table: audit_events/);
    await expect(client.append(makeEvents(1))).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
    await client.close();
    await expect(client.append(makeEvents(1))).rejects.toThrow(/closed/);
  });

  it('keeps a duplicate id from half-committing a batch', async () => {
    const store = await openSqliteStore(join(dir, 'jitgate.db'));
    try {
      const [first] = await store.appendAuditEvents(makeEvents(1));
      const batch = [...makeEvents(3), ...makeEvents(1, { id: first?.id ?? '' })];
      await expect(store.appendAuditEvents(batch)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
      expect(await store.readAuditEvents(0, 10)).toHaveLength(1);
      expect((await store.appendAuditEvents(makeEvents(2))).map((event) => event.seq)).toEqual([2, 3]);
    } finally {
      await store.close();
    }
  });
});
