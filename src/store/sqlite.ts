// The embedded store: one better-sqlite3 connection behind Kysely. Good for one jitgate instance per file.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery, Kysely, SqliteAdapter, SqliteDriver, SqliteIntrospector, SqliteQueryCompiler, sql,
  type DatabaseConnection, type Dialect, type SqliteDatabase as KyselySqliteDatabase,
} from 'kysely';
import type { AuditBatchColumns } from '../audit/records.js';
import { KyselyStore, type DialectHooks } from './kysely-store.js';
import { BUSY_TIMEOUT_MS, configureConnection, prepareAuditAppend, type AuditAppend, type SessionColumns } from './sqlite-audit-append.js';
import { SqliteAuditWorkerClient, type SqliteStoreOptions } from './sqlite-audit-client.js';
import type { Store } from './store.js';
import type { Database, SessionsTable } from './tables.js';

/** `:memory:` opens a private in-memory database. */
export const SQLITE_MEMORY = ':memory:';


/**
 * Kysely's SQLite driver opens transactions with a deferred BEGIN: two processes could then both read the audit chain
 * head and one fail with SQLITE_BUSY when upgrading to a write. BEGIN IMMEDIATE takes the write lock up front, so the
 * second waits (busy_timeout) and then reads the head the first one wrote.
 */
/** Prepared statements kept by SQL text; past this many distinct texts the oldest is let go. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * better-sqlite3 as Kysely's driver sees it, except that a statement is prepared once per SQL text instead of on every
 * execution: the driver's `prepare` is most of what a login's grant lookup costs (parse and plan, every time). Safe
 * because every query runs to completion synchronously (`all`/`run`; jitgate streams no SQLite results), so no two
 * uses of one statement overlap.
 */
function reusingStatements(sqlite: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text) => {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = sqlite.prepare(text);
        if (statements.size >= MAX_CACHED_STATEMENTS) {
          const oldest = statements.keys().next();
          if (oldest.done !== true) statements.delete(oldest.value);
        }
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

class ImmediateTransactionDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * `:memory:` has no file a second connection could open, so its appends run here, synchronously; inside an open
 * Kysely transaction they would nest into (and roll back with) someone else's work, so they decline there.
 */
function inProcessAuditAppender(sqlite: SqliteDatabase.Database): NonNullable<DialectHooks['appendAuditColumns']> {
  let append: AuditAppend | undefined;
  return (columns) => {
    if (sqlite.inTransaction) return undefined;
    append ??= prepareAuditAppend(sqlite); // on first use: the schema exists by then
    return append(columns);
  };
}

const sqliteHooks = (audit: Pick<DialectHooks, 'appendAuditColumns' | 'insertSession' | 'updateSession' | 'close'>): DialectHooks => ({
  ...audit,
  kind: 'sqlite',
  // BEGIN IMMEDIATE already serialises writers across processes; within one process the driver has one connection.
  lockAuditChain: () => Promise.resolve(),
  skipLockedRows: false,
  // SQLite's LIKE ignores case for ASCII letters only (no ICU in better-sqlite3's build).
  textSearch: { caseInsensitiveLike: 'like', sqlOfBody: (body) => sql<string>`json_extract(${body}, '$.sql')` },
});

/** Creates the file 0600 (it holds token verifiers) inside a parent created on demand; SQLite gives -wal/-shm the same mode. */
function prepareFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx', 0o600);
    chmodSync(path, 0o600); // the umask may have narrowed the mode above, never widened it; this states it exactly
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Opens (creating if needed) the SQLite store at `location`, relative to the working directory, or `:memory:`. */
export async function openSqliteStore(location: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const path = location === SQLITE_MEMORY ? SQLITE_MEMORY : resolve(location);
  if (path !== SQLITE_MEMORY) prepareFile(path);
  const sqlite = new SqliteDatabase(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    configureConnection(sqlite);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const dialect: Dialect = {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new ImmediateTransactionDriver({ database: reusingStatements(sqlite) }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  // A file gets the write worker (its own connection, off the relay thread) for audit and sessions; `:memory:` stays here.
  const worker = path === SQLITE_MEMORY ? undefined : new SqliteAuditWorkerClient(path, options);
  const audit = worker === undefined
    ? { appendAuditColumns: inProcessAuditAppender(sqlite) }
    : {
      appendAuditColumns: (columns: AuditBatchColumns) => worker.append(columns),
      insertSession: (row: SessionsTable) => worker.insertSession(row),
      updateSession: (id: string, columns: SessionColumns) => worker.updateSession(id, columns),
      close: () => worker.close(),
    };
  return KyselyStore.open(new Kysely<Database>({ dialect }), sqliteHooks(audit));
}
