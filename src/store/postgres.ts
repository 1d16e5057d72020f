// The shared store: PostgreSQL through a pg.Pool, for several jitgate instances on one state.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KyselyStore, type DialectHooks } from './kysely-store.js';
import type { Store } from './store.js';
import type { Database } from './tables.js';

const INT8_OID = 20;
/** Arbitrary but fixed: every jitgate instance must take the same advisory lock to append to the audit chain. */
const AUDIT_CHAIN_LOCK_KEY = 0x6a67_6175; // "jgau"

export interface PostgresStoreOptions {
  /** Errors of idle pooled connections (server restart, network drop); the pool replaces the connection itself. */
  readonly onBackgroundError?: (error: Error) => void;
}

/** bigint columns hold epoch milliseconds and counters: all far below 2^53, so a JS number carries them exactly. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`store: bigint ${text} does not fit a JavaScript number`);
  return value;
}

const postgresHooks: DialectHooks = {
  kind: 'postgres',
  async lockAuditChain(trx) {
    // Transaction-scoped: released at commit or rollback, so a crashed append can never leave the chain locked.
    await sql`select pg_advisory_xact_lock(${sql.lit(AUDIT_CHAIN_LOCK_KEY)})`.execute(trx);
  },
  skipLockedRows: true,
  textSearch: { caseInsensitiveLike: 'ilike', sqlOfBody: (body) => sql<string>`(${body}::jsonb ->> 'sql')` },
};

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  // Per-pool type parsers, so other pg users in the process keep pg's defaults.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseInt8);
  const pool = new pg.Pool({
    connectionString: url,
    types,
    application_name: 'jitgate',
    connectionTimeoutMillis: 10_000,
  });
  // Without a listener an idle connection's error would crash the process; queries still report their own errors.
  pool.on('error', (error) => options.onBackgroundError?.(error));
  return KyselyStore.open(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), postgresHooks);
}
