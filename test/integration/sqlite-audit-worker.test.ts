// The audit worker owns the audit appends of a SQLite file store: the chain it writes is the one the main connection
// reads, a failing append rejects with SQLite's own error (and the next one works), and close leaves no thread behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import { columnsOf } from '../../src/audit/records.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { auditWorkerUrl, SESSION_WRITE_DELAY_MS, SqliteAuditWorkerClient } from '../../src/store/sqlite-audit-client.js';
import { at, chainProblems, makeEvents, makeGrant, makeSession } from '../support/store-fixtures.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'jitgate-audit-worker-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

type SqliteStore = Awaited<ReturnType<typeof openSqliteStore>>;

/** Opens the store at `file` (default: a fresh one in the test's directory) for `use`, and closes it after. */
async function withStore(use: (store: SqliteStore) => Promise<void>, file = join(dir, 'jitgate.db')): Promise<void> {
  const store = await openSqliteStore(file);
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

describe('SQLite audit worker', () => {
  it('runs the compiled worker when this module is TypeScript source, and says so when it is not built', () => {
    expect(auditWorkerUrl().pathname).toMatch(/\/dist\/src\/store\/sqlite-audit-worker\.js$/);
    expect(() => auditWorkerUrl(pathToFileURL('/nowhere/src/store/sqlite-audit-client.ts').href))
      .toThrow('the audit worker is not built (/nowhere/dist/src/store/sqlite-audit-worker.js): run npm run build');
    expect(auditWorkerUrl('file:///opt/jitgate/dist/src/store/sqlite-audit-client.js').pathname).toBe('/opt/jitgate/dist/src/store/sqlite-audit-worker.js');
  });

  it('appends from the worker what the store reads on its own connection, in one unbroken chain', () => withStore(async (store) => {
    const batches = await Promise.all(Array.from({ length: 20 }, () => store.appendAuditEvents(makeEvents(50))));
    expect(batches.flat().map((event) => event.seq)).toEqual(Array.from({ length: 1_000 }, (_, index) => index + 1));
    const stored = await store.readAuditEvents(0, 2_000);
    expect(stored).toEqual(batches.flat());
    expect(chainProblems(stored)).toEqual([]);
  }));

  it('rejects a failing append with the SQLite error and keeps serving the next', async () => {
    const file = join(dir, 'bare.db');
    new SqliteDatabase(file).close(); // a file without jitgate's schema: the insert fails
    const client = new SqliteAuditWorkerClient(file);
    await expect(client.append(columnsOf(makeEvents(1)))).rejects.toThrow(/no such table: audit_events/);
    await expect(client.append(columnsOf(makeEvents(1)))).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
    await client.close();
    await expect(client.append(columnsOf(makeEvents(1)))).rejects.toThrow(/closed/);
  });

  it('sends waiting session writes with the next audit batch, in order, and close delivers the rest', async () => {
    const file = join(dir, 'jitgate.db');
    const store = await openSqliteStore(file);
    const grant = makeGrant();
    await store.insertGrant(grant);
    const session = makeSession(grant.id, { startedAt: at(1) });
    let inserted = false;
    const insert = store.insertSession(session).then(() => { inserted = true; });
    const update = store.updateSession(session.id, { endedAt: at(9), endReason: 'client_closed', statements: 2 });
    expect(inserted).toBe(false); // waiting for company, not posted alone
    await store.appendAuditEvents(makeEvents(1));
    // It travelled ahead of the batch in the same message, so the worker committed it first.
    expect(await store.getSession(session.id)).toMatchObject({ id: session.id });
    await Promise.all([insert, update]);
    expect(await store.getSession(session.id)).toMatchObject({ endedAt: at(9), statements: 2 });

    const later = makeSession(grant.id, { startedAt: at(2) });
    void store.insertSession(later); // nothing else comes: close must still deliver it
    await store.close();
    await withStore(async (reopened) => {
      expect(await reopened.getSession(later.id)).toEqual(later);
    }, file);
  });

  it('delivers a lone session write within the coalescing delay', () => withStore(async (store) => {
    const grant = makeGrant();
    await store.insertGrant(grant);
    const session = makeSession(grant.id);
    const started = performance.now();
    await store.insertSession(session);
    expect(performance.now() - started).toBeGreaterThanOrEqual(SESSION_WRITE_DELAY_MS - 2);
    expect(await store.getSession(session.id)).toEqual(session);
  }));

  it('commits the session writes of one message together, each succeeding or failing on its own, and an append alone', () => withStore(async (store) => {
    const [first] = await store.appendAuditEvents(makeEvents(1));
    const grant = makeGrant();
    await store.insertGrant(grant);
    const session = makeSession(grant.id);
    const orphan = makeSession(newGrantId()); // a grant never stored
    // Both session writes wait for company and travel with the append in one message: they share one transaction.
    const results = await Promise.allSettled([store.insertSession(session), store.insertSession(orphan),
      store.appendAuditEvents([...makeEvents(2), ...makeEvents(1, { id: first?.id ?? '' })])]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(results[1]).toMatchObject({ reason: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
    expect(results[2]).toMatchObject({ reason: { code: 'SQLITE_CONSTRAINT_UNIQUE' } });
    expect(await store.getSession(session.id)).toEqual(session);
    expect(await store.getSession(orphan.id)).toBeUndefined();
    expect(await store.readAuditEvents(0, 10)).toHaveLength(1);
    expect((await store.appendAuditEvents(makeEvents(2))).map((event) => event.seq)).toEqual([2, 3]);
  }));

  it('keeps a duplicate id from half-committing a batch', () => withStore(async (store) => {
    const [first] = await store.appendAuditEvents(makeEvents(1));
    const batch = [...makeEvents(3), ...makeEvents(1, { id: first?.id ?? '' })];
    await expect(store.appendAuditEvents(batch)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(await store.readAuditEvents(0, 10)).toHaveLength(1);
    expect((await store.appendAuditEvents(makeEvents(2))).map((event) => event.seq)).toEqual([2, 3]);
  }));
});
