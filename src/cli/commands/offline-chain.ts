// The audit chain read straight from the store for `audit verify --config`, read-only: verification must never
// create, migrate or write a store (issue 19: a missing store used to be created and reported "chain OK: 0 events").
// So it does not go through openStore (which creates the SQLite file and applies migrations): SQLite is opened with
// readonly + fileMustExist, PostgreSQL with default_transaction_read_only, and only audit_events is read.
// Loaded by audit.ts with a dynamic import, so the drivers stay out of every other CLI command.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { parseStoreUrl, redactUrl } from '../../store/open.js';
import { rowToAuditEvent } from '../../store/rows.js';
import type { StoredAuditEvent } from '../../store/store.js';
import type { AuditEventsTable } from '../../store/tables.js';
import { CliError } from '../errors.js';

export interface ReadOnlyChain {
  /** How the store is named in messages (password masked). */
  readonly label: string;
  readAuditEvents(afterSeq: number, limit: number): Promise<StoredAuditEvent[]>;
  close(): Promise<void>;
}

const COLUMNS = 'seq, id, ts, type, grant_id, session_id, actor, body, prev, hash';
const INT8_OID = 20;

const noAuditTrail = (label: string): CliError =>
  new CliError(`store ${label} has no audit trail (no audit_events table): not a jitgate store, or never started`);

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function openChainReadOnly(url: string): Promise<ReadOnlyChain> {
  let target;
  try {
    target = parseStoreUrl(url);
  } catch (error) {
    throw new CliError(describe(error));
  }
  return target.kind === 'sqlite' ? openSqlite(target.location) : openPostgres(target.url);
}

function openSqlite(location: string): ReadOnlyChain {
  if (location === ':memory:') throw new CliError('store.url is an in-memory store (sqlite::memory:): it is gone with its process, nothing to verify offline');
  const path = resolve(location);
  const label = `sqlite:${location}`;
  if (!existsSync(path)) throw new CliError(`no store at ${path}: nothing to verify (is store.url right?)`);
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(path, { readonly: true, fileMustExist: true });
    const table = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'audit_events'").get();
    if (table === undefined) {
      db.close();
      throw noAuditTrail(label);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read store ${label}: ${describe(error)}`);
  }
  const page = db.prepare<[number, number], AuditEventsTable>(`select ${COLUMNS} from audit_events where seq > ? order by seq limit ?`);
  return {
    label,
    readAuditEvents: (afterSeq, limit) => Promise.resolve(page.all(afterSeq, limit).map(rowToAuditEvent)),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

async function openPostgres(url: string): Promise<ReadOnlyChain> {
  const label = redactUrl(url);
  // bigint columns (seq, ts) are far below 2^53: numbers, as the store reads them.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, Number);
  const client = new pg.Client({
    connectionString: url, types, application_name: 'jitgate-verify', connectionTimeoutMillis: 10_000,
    options: '-c default_transaction_read_only=on',
  });
  client.on('error', () => {}); // a dropped connection fails the query in progress, which reports it
  try {
    await client.connect();
    const { rows } = await client.query<{ found: string | null }>("select to_regclass('audit_events')::text as found");
    if (rows[0]?.found == null) throw noAuditTrail(label);
  } catch (error) {
    await client.end().catch(() => {});
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read store ${label}: ${describe(error)}`);
  }
  return {
    label,
    async readAuditEvents(afterSeq, limit) {
      const { rows } = await client.query<AuditEventsTable>(`select ${COLUMNS} from audit_events where seq > $1 order by seq limit $2`, [afterSeq, limit]);
      return rows.map(rowToAuditEvent);
    },
    close: () => client.end(),
  };
}
