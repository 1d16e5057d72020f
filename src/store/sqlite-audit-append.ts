// The SQLite audit append as prepared statements, shared by the in-process path (`:memory:`) and the audit worker
// (a file): read the head and insert the linked rows inside one BEGIN IMMEDIATE, so writers in other connections or
// processes queue on the lock and then read the head this one wrote.
import type SqliteDatabase from 'better-sqlite3';
import { chainBatch } from '../audit/chain.js';
import { bodyAt, COLUMNS_PER_EVENT, eventCount, type AuditBatchColumns, type AuditChainHead, type ChainAssignment } from '../audit/records.js';
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

type AuditRowValues = [number, string, number, string, string | null, string | null, string | null, string, string, string];

export type AuditAppend = (columns: AuditBatchColumns) => ChainAssignment;

const text = (value: string | number | null | undefined): string => (typeof value === 'string' ? value : String(value));
const textOrNull = (value: string | number | null | undefined): string | null => (value === null || value === undefined ? null : text(value));

/** Prepares the statements now: call it once the schema exists. */
export function prepareAuditAppend(sqlite: SqliteDatabase.Database): AuditAppend {
  const head = sqlite.prepare<[], AuditChainHead>('select seq, hash from audit_events order by seq desc limit 1');
  // Positional parameters: binding from an object costs a property lookup per column per row, a third of the insert.
  const insert = sqlite.prepare<AuditRowValues>('insert into audit_events (seq, id, ts, type, grant_id, session_id, actor, body, prev, hash) '
    + 'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  // The chain rule (audit/chain.ts) over the flat columns, each row written as its link is made.
  const transaction = sqlite.transaction((columns: AuditBatchColumns): ChainAssignment =>
    chainBatch(head.get(), eventCount(columns), (index) => bodyAt(columns, index), (index, seq, prev, hash) => {
      const at = index * COLUMNS_PER_EVENT;
      insert.run(seq, text(columns[at]), Number(columns[at + 1]), text(columns[at + 2]), textOrNull(columns[at + 3]),
        textOrNull(columns[at + 4]), textOrNull(columns[at + 5]), text(columns[at + 6]), prev, hash);
    }));
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
