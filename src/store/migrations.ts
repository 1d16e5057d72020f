// The one migration history both dialects share. A migration may ask which dialect it runs on (for the few column
// types that differ), but there is never a second history: a schema version means the same tables everywhere.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Store } from './store.js';

type StoreKind = Store['kind'];

const MIGRATION_TABLE = 'jitgate_migration';
const MIGRATION_LOCK_TABLE = 'jitgate_migration_lock';

/** Applies every pending migration; safe on every start and, on PostgreSQL, from several instances at once. */
export async function migrateToLatest<DB>(db: Kysely<DB>, kind: StoreKind): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(kind),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`store migration ${failed ?? '(setup)'} failed: ${message}`, { cause: error });
  }
}

function migrationProvider(kind: StoreKind): MigrationProvider {
  return {
    getMigrations: () => Promise.resolve({ '001_initial': initial(kind), '002_leases': leases(kind), '003_review_indexes': reviewIndexes(), '004_audit_write_path': auditWritePath(),
      '005_search_by_chain_order': searchByChainOrder(), '006_deployment': deployment(kind) }),
  };
}

/** SQLite makes only the exact type `integer primary key` a rowid alias; PostgreSQL needs bigint for epoch ms. */
const int64Of = (kind: StoreKind): 'integer' | 'bigint' => (kind === 'sqlite' ? 'integer' : 'bigint');

function initial(kind: StoreKind): Migration {
  // SQLite's integers are 64-bit anyway, and `integer primary key` is its fast auto-assigned rowid alias.
  const int64 = int64Of(kind);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('grants')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('resource', 'text', (col) => col.notNull())
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('requester', 'text', (col) => col.notNull())
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('policy', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('end_reason', 'text')
        .addColumn('ttl_seconds', int64, (col) => col.notNull())
        .addColumn('approvals_required', 'integer', (col) => col.notNull())
        .addColumn('approver_groups', 'text', (col) => col.notNull())
        .addColumn('created_at', int64, (col) => col.notNull())
        .addColumn('approved_at', int64)
        .addColumn('activated_at', int64)
        .addColumn('expires_at', int64, (col) => col.notNull())
        .addColumn('ended_at', int64)
        .addColumn('scram_sha256', 'text', (col) => col.notNull())
        .addColumn('sha256_double', 'text', (col) => col.notNull())
        .addColumn('sha1_double', 'text', (col) => col.notNull())
        .addColumn('version', int64, (col) => col.notNull())
        .addCheckConstraint('grants_state_check', sql`state in ('pending', 'approved', 'active', 'denied', 'ended')`)
        .addCheckConstraint('grants_end_reason_check', sql`end_reason is null or end_reason in ('expired', 'revoked', 'cancelled')`)
        .execute();
      // The expiry scheduler and reaper ask "open grants by expiry" on every tick.
      await db.schema.createIndex('grants_state_expires_at_idx').on('grants').columns(['state', 'expires_at']).execute();
      await db.schema.createIndex('grants_requester_idx').on('grants').column('requester').execute();
      await db.schema.createIndex('grants_created_at_idx').on('grants').column('created_at').execute();

      await db.schema.createTable('grant_decisions')
        .addColumn('id', int64, (col) => (kind === 'sqlite' ? col.primaryKey() : col.primaryKey().generatedByDefaultAsIdentity()))
        .addColumn('grant_id', 'text', (col) => col.notNull().references('grants.id').onDelete('cascade'))
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('decision', 'text', (col) => col.notNull())
        .addColumn('comment', 'text', (col) => col.notNull())
        .addColumn('at', int64, (col) => col.notNull())
        .addCheckConstraint('grant_decisions_decision_check', sql`decision in ('approve', 'deny')`)
        .execute();
      await db.schema.createIndex('grant_decisions_grant_id_idx').on('grant_decisions').columns(['grant_id', 'id']).execute();

      // No foreign keys here: the audit trail outlives and precedes grants (auth failures name grants that never existed).
      await db.schema.createTable('audit_events')
        .addColumn('seq', int64, (col) => col.primaryKey())
        .addColumn('id', 'text', (col) => col.notNull().unique())
        .addColumn('ts', int64, (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('actor', 'text')
        .addColumn('body', 'text', (col) => col.notNull())
        .addColumn('prev', 'text', (col) => col.notNull())
        .addColumn('hash', 'text', (col) => col.notNull())
        .execute();
      // (x, seq) rather than (x): every read of a grant's or session's events is paged by seq.
      await db.schema.createIndex('audit_events_grant_id_idx').on('audit_events').columns(['grant_id', 'seq']).execute();
      await db.schema.createIndex('audit_events_session_id_idx').on('audit_events').columns(['session_id', 'seq']).execute();
      await db.schema.createIndex('audit_events_ts_idx').on('audit_events').column('ts').execute();
      await db.schema.createIndex('audit_events_type_idx').on('audit_events').column('type').execute();

      await db.schema.createTable('sessions')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('grant_id', 'text', (col) => col.notNull().references('grants.id'))
        .addColumn('resource', 'text', (col) => col.notNull())
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('user_name', 'text', (col) => col.notNull())
        .addColumn('protocol', 'text', (col) => col.notNull())
        .addColumn('client_address', 'text', (col) => col.notNull())
        .addColumn('client_program', 'text')
        .addColumn('tls', 'integer', (col) => col.notNull())
        .addColumn('started_at', int64, (col) => col.notNull())
        .addColumn('ended_at', int64)
        .addColumn('end_reason', 'text')
        .addColumn('bytes_in', int64, (col) => col.notNull())
        .addColumn('bytes_out', int64, (col) => col.notNull())
        .addColumn('statements', int64, (col) => col.notNull())
        .addCheckConstraint('sessions_protocol_check', sql`protocol in ('postgres', 'mysql')`)
        .addCheckConstraint('sessions_tls_check', sql`tls in (0, 1)`)
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['sessions', 'audit_events', 'grant_decisions', 'grants']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

function leases(kind: StoreKind): Migration {
  const int64 = int64Of(kind);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // No password column, ever: the password lives in memory only (DESIGN §2). No foreign key to grants either:
      // the start sweep records users whose grant this store never saw, so their revocation is never forgotten.
      await db.schema.createTable('leases')
        .addColumn('lease_id', 'text', (col) => col.primaryKey())
        .addColumn('grant_id', 'text', (col) => col.notNull())
        .addColumn('resource', 'text', (col) => col.notNull())
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('broker', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('expires_at', int64, (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('attempts', 'integer', (col) => col.notNull())
        .addColumn('last_error', 'text')
        .addColumn('next_attempt_at', int64)
        .addColumn('created_at', int64, (col) => col.notNull())
        .addColumn('revoked_at', int64)
        .addCheckConstraint('leases_state_check', sql`state in ('active', 'revoking', 'revoked')`)
        .addCheckConstraint('leases_broker_check', sql`broker in ('builtin', 'vault')`)
        .execute();
      await db.schema.createIndex('leases_grant_id_idx').on('leases').column('grant_id').execute();
      // The start sweep and the retry loop ask for every unrevoked lease.
      await db.schema.createIndex('leases_state_idx').on('leases').column('state').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('leases').execute();
    },
  };
}

/**
 * The review UI and API (issue 8) page by keyset, newest first: every list order is `(started_at, id)`, after an
 * equality filter where one is given, so a page deep into 10k sessions costs one index range scan. Open sessions get a
 * partial index: "who is connected now" must not walk every session ever recorded. Statement pages and counts read
 * `(session_id, type, seq)`, which covers them; statement search walked `(type, seq)` newest first (005 drops it for the chain order).
 * Only added indexes (001's single-column ones stay): no table changes, so an older jitgate still reads the store.
 */
function reviewIndexes(): Migration {
  const sessionIndexes = [
    ['sessions_started_at_id_idx', ['started_at', 'id']],
    ['sessions_grant_id_started_at_idx', ['grant_id', 'started_at', 'id']],
    ['sessions_resource_started_at_idx', ['resource', 'started_at', 'id']],
    ['sessions_user_name_started_at_idx', ['user_name', 'started_at', 'id']],
  ] as const;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const [name, columns] of sessionIndexes) await db.schema.createIndex(name).on('sessions').columns([...columns]).execute();
      await db.schema.createIndex('sessions_open_started_at_idx').on('sessions').columns(['started_at', 'id'])
        .where(sql.ref('ended_at'), 'is', null).execute();
      await db.schema.createIndex('audit_events_session_type_seq_idx').on('audit_events').columns(['session_id', 'type', 'seq']).execute();
      await db.schema.createIndex('audit_events_type_seq_idx').on('audit_events').columns(['type', 'seq']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const [name] of sessionIndexes) await db.schema.dropIndex(name).execute();
      for (const name of ['sessions_open_started_at_idx', 'audit_events_session_type_seq_idx', 'audit_events_type_seq_idx']) {
        await db.schema.dropIndex(name).execute();
      }
    },
  };
}

/**
 * Every audited statement inserts one audit row, and every index on the table is written with it. 001's `ts` index
 * serves no query (sessions are listed by their own started_at), and its `type` index is covered by 003's
 * `(type, seq)`: both go, leaving the id, chain-order, per-grant and per-session indexes. Dropping an index changes no
 * query's result, so an older jitgate still reads the store.
 */
function auditWritePath(): Migration {
  const dropped = [['audit_events_ts_idx', 'ts'], ['audit_events_type_idx', 'type']] as const;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const [name] of dropped) await db.schema.dropIndex(name).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const [name, column] of dropped) await db.schema.createIndex(name).on('audit_events').column(column).execute();
    },
  };
}

/**
 * Each index on audit_events costs every audited statement an entry and every batch commit a dirty page. Statement
 * search pages newest first: walking the chain's own order (the integer primary key, seq) and skipping the few
 * non-statement events reads about as many rows as 003's `(type, seq)` did, so that index goes. Dropping an index
 * changes no query's result, so an older jitgate still reads the store.
 */
function searchByChainOrder(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('audit_events_type_seq_idx').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('audit_events_type_seq_idx').on('audit_events').columns(['type', 'seq']).execute();
    },
  };
}

/**
 * The deployment's own id (issue 19): made at its first start, carried in the name of every database user it creates,
 * so its start sweep can tell its users from another deployment's on a shared server. One row, ever: `singleton` is
 * the key and can only be 1, so a second start (or a second instance on a shared store) keeps the first id. A new
 * table only: an older jitgate still reads the store.
 */
function deployment(kind: StoreKind): Migration {
  const int64 = int64Of(kind);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('deployment')
        .addColumn('singleton', 'integer', (col) => col.primaryKey())
        .addColumn('id', 'text', (col) => col.notNull())
        .addColumn('created_at', int64, (col) => col.notNull())
        .addCheckConstraint('deployment_singleton_check', sql`singleton = 1`)
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('deployment').execute();
    },
  };
}
