// The leases table: row conversions and the queries KyselyStore delegates to. Kept apart from kysely-store.ts so
// each file stays one screenful of concepts; the dialect differences (none here) would come in the same way.
import type { Kysely, Selectable } from 'kysely';
import type { GrantId } from '../access/ids.js';
import type { BrokerKind } from '../credentials/broker.js';
import { fromMsOrNull, oneOf, toMs, toMsOrNull } from './rows.js';
import { LeaseConflictError, type LeaseFilter, type LeaseRecord, type LeaseState, type RevocationProgress } from './store.js';
import type { Database, LeasesTable } from './tables.js';

const LEASE_STATES = ['active', 'revoking', 'revoked'] as const satisfies readonly LeaseState[];
const BROKER_KINDS = ['builtin', 'vault'] as const satisfies readonly BrokerKind[];

export const leaseToRow = (lease: LeaseRecord): LeasesTable => ({
  lease_id: lease.leaseId,
  grant_id: lease.grantId,
  resource: lease.resource,
  role: lease.role,
  broker: lease.broker,
  username: lease.username,
  expires_at: toMs(lease.expiresAt),
  state: lease.state,
  attempts: lease.attempts,
  last_error: lease.lastError,
  next_attempt_at: toMsOrNull(lease.nextAttemptAt),
  created_at: toMs(lease.createdAt),
  revoked_at: toMsOrNull(lease.revokedAt),
});

export const rowToLease = (row: Selectable<LeasesTable>): LeaseRecord => ({
  leaseId: row.lease_id,
  grantId: row.grant_id as GrantId,
  resource: row.resource,
  role: row.role,
  broker: oneOf(BROKER_KINDS, row.broker, 'lease broker'),
  username: row.username,
  expiresAt: new Date(row.expires_at),
  state: oneOf(LEASE_STATES, row.state, 'lease state'),
  attempts: row.attempts,
  lastError: row.last_error,
  nextAttemptAt: fromMsOrNull(row.next_attempt_at),
  createdAt: new Date(row.created_at),
  revokedAt: fromMsOrNull(row.revoked_at),
});

export async function insertLease(db: Kysely<Database>, lease: LeaseRecord): Promise<void> {
  const row = leaseToRow(lease);
  const { lease_id: _id, ...rest } = row;
  // One statement on both dialects: insert, or take over a revoked row of the same id (a re-issued builtin user).
  const written = await db.insertInto('leases').values(row)
    .onConflict((conflict) => conflict.column('lease_id').doUpdateSet(rest).where('leases.state', '=', 'revoked'))
    .returning('lease_id')
    .executeTakeFirst();
  if (written === undefined) throw new LeaseConflictError(lease.leaseId);
}

export async function getLeaseByGrant(db: Kysely<Database>, grantId: GrantId): Promise<LeaseRecord | undefined> {
  const row = await db.selectFrom('leases').selectAll()
    .where('grant_id', '=', grantId)
    .where('state', '=', 'active')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : rowToLease(row);
}

export async function listLeases(db: Kysely<Database>, filter: LeaseFilter = {}): Promise<LeaseRecord[]> {
  let query = db.selectFrom('leases').selectAll();
  if (filter.state !== undefined) {
    const states: readonly LeaseState[] = typeof filter.state === 'string' ? [filter.state] : filter.state;
    if (states.length === 0) return [];
    query = query.where('state', 'in', states);
  }
  if (filter.grantId !== undefined) query = query.where('grant_id', '=', filter.grantId);
  const rows = await query.orderBy('created_at', 'asc').orderBy('lease_id', 'asc').execute();
  return rows.map(rowToLease);
}

export async function markLeaseRevoking(db: Kysely<Database>, leaseId: string, progress: RevocationProgress): Promise<boolean> {
  const result = await db.updateTable('leases')
    .set({
      state: 'revoking',
      attempts: progress.attempts,
      last_error: progress.lastError,
      next_attempt_at: toMsOrNull(progress.nextAttemptAt),
    })
    .where('lease_id', '=', leaseId)
    .where('state', '!=', 'revoked')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function markLeaseRevoked(db: Kysely<Database>, leaseId: string, at: Date): Promise<boolean> {
  const result = await db.updateTable('leases')
    .set({ state: 'revoked', revoked_at: toMs(at), next_attempt_at: null })
    .where('lease_id', '=', leaseId)
    .where('state', '!=', 'revoked') // the first verified revocation's time stands
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function updateLeaseExpiry(db: Kysely<Database>, leaseId: string, expiresAt: Date): Promise<boolean> {
  const result = await db.updateTable('leases')
    .set({ expires_at: toMs(expiresAt) })
    .where('lease_id', '=', leaseId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
