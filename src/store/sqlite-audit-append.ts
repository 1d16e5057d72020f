// The SQLite audit append as prepared statements, shared by the in-process path (`:memory:`) and the audit worker
// (a file): read the head and insert the linked rows inside one BEGIN IMMEDIATE, so writers in other connections or
// processes queue on the lock and then read the head this one wrote.
import type SqliteDatabase from 'better-sqlite3';
import { GENESIS_HASH, linkHash } from '../audit/chain.js';
import type { ChainAssignment } from './chain-records.js';
import { toMs } from './rows.js';
import type { PendingAuditEvent } from './store.js';
import type { SessionsTable } from './tables.js';

// How long a writer waits for another connection's write lock. better-sqlite3 waits synchronously, so keep it short
// enough not to stall a thread noticeably, long enough to ride out a checkpoint or a big audit batch.
export const BUSY_TIMEOUT_MS = 5_000;

const NEW_FILE_PAGE_SIZE = 16_384;

/** The settings every jitgate connection to a SQLite file uses. */
export function configureConnection(sqlite: SqliteDatabase.Database): void {
  // Pages of 16 KiB, for a new file only (an existing one keeps its size): a batch commit writes each page it dirtied
  // to the WAL, one pwrite per page, and an audit batch dirties the table's right edge and each index's — at 4 KiB
  // that was about one syscall per audited statement. Set before anything writes the file, WAL mode included.
  sqlite.pragma(`page_size = ${NEW_FILE_PAGE_SIZE}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL'); // with WAL: a power loss may drop the last commits, never corrupts the file
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
}

interface HeadRow { readonly seq: number; readonly hash: string }

type AuditRowValues = [number, string, number, string, string | null, string | null, string | null, string, string, string];

/**
 * A batch as the append takes it: per event id, ts (ms), type, grant, session, actor and body, flat. This is what
 * crosses to the worker: a structured clone of an array of primitives costs less than half of one of objects (no
 * member names to write and read back per event, no Date).
 */
export type AuditBatchColumns = (string | number | null)[];

const COLUMNS_PER_EVENT = 7;

export function auditBatchColumns(events: readonly PendingAuditEvent[]): AuditBatchColumns {
  const columns: AuditBatchColumns = [];
  for (const event of events) columns.push(event.id, toMs(event.ts), event.type, event.grantId, event.sessionId, event.actor, event.body);
  return columns;
}

export type AuditAppend = (columns: AuditBatchColumns) => ChainAssignment;

const text = (value: string | number | null | undefined): string => (typeof value === 'string' ? value : String(value));
const textOrNull = (value: string | number | null | undefined): string | null => (value === null || value === undefined ? null : text(value));

/** Prepares the statements now: call it once the schema exists. */
export function prepareAuditAppend(sqlite: SqliteDatabase.Database): AuditAppend {
  const head = sqlite.prepare<[], HeadRow>('select seq, hash from audit_events order by seq desc limit 1');
  // Positional parameters: binding from an object costs a property lookup per column per row, a third of the insert.
  const insert = sqlite.prepare<AuditRowValues>('insert into audit_events (seq, id, ts, type, grant_id, session_id, actor, body, prev, hash) '
    + 'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  // The chain rule of chain-records.ts's chainAfter, applied to the flat columns.
  const transaction = sqlite.transaction((columns: AuditBatchColumns): ChainAssignment => {
    const last = head.get();
    const firstSeq = (last?.seq ?? 0) + 1;
    const first = last?.hash ?? GENESIS_HASH;
    const hashes: string[] = [];
    let prev = first;
    for (let at = 0; at + COLUMNS_PER_EVENT <= columns.length; at += COLUMNS_PER_EVENT) {
      const body = text(columns[at + 6]);
      const hash = linkHash(prev, body);
      insert.run(firstSeq + hashes.length, text(columns[at]), Number(columns[at + 1]), text(columns[at + 2]), textOrNull(columns[at + 3]),
        textOrNull(columns[at + 4]), textOrNull(columns[at + 5]), body, prev, hash);
      hashes.push(hash);
      prev = hash;
    }
    return { firstSeq, prev: first, hashes };
  });
  return (columns) => transaction.immediate(columns);
}

export type SessionColumns = Partial<Omit<SessionsTable, 'id'>>;

/** Session rows written as prepared statements: an insert, and one update per distinct set of changed columns. */
export function prepareSessionWrites(sqlite: SqliteDatabase.Database): {
  insert(row: SessionsTable): void;
  update(id: string, columns: SessionColumns): void;
} {
  let insert: SqliteDatabase.Statement | undefined;
  const updates = new Map<string, SqliteDatabase.Statement>();
  return {
    insert(row) {
      insert ??= sqlite.prepare(`insert into sessions (${Object.keys(row).join(', ')}) values (${Object.keys(row).map((key) => `@${key}`).join(', ')})`);
      insert.run(row);
    },
    update(id, columns) {
      const names = Object.keys(columns);
      if (names.length === 0) return;
      // Column names come from rows.ts, never from a client; checked anyway, as they are spliced into SQL.
      if (!names.every((name) => /^[a-z_]+$/.test(name))) throw new Error(`unexpected session column in ${names.join(', ')}`);
      const key = names.join(',');
      let statement = updates.get(key);
      if (statement === undefined) {
        statement = sqlite.prepare(`update sessions set ${names.map((name) => `${name} = @${name}`).join(', ')} where id = @id`);
        updates.set(key, statement);
      }
      statement.run({ ...columns, id });
    },
  };
}
