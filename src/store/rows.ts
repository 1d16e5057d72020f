// Conversions between domain objects and table rows. The database is a boundary: text columns that stand for a union
// are narrowed here, so a row written by a newer jitgate (or by hand) fails loudly instead of flowing on mistyped.
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Grant, GrantDecision, GrantEndReason, GrantState } from '../access/grant.js';
import type { GrantId, SessionId } from '../access/ids.js';
import type { GrantPatch, SessionPatch, SessionRecord, StoredAuditEvent } from './store.js';
import type { AuditEventsTable, GrantDecisionsTable, GrantsTable, SessionsTable } from './tables.js';

const GRANT_STATES = ['pending', 'approved', 'active', 'denied', 'ended'] as const satisfies readonly GrantState[];
const END_REASONS = ['expired', 'revoked', 'cancelled'] as const satisfies readonly GrantEndReason[];
const DECISIONS = ['approve', 'deny'] as const satisfies readonly GrantDecision['decision'][];
const PROTOCOLS = ['postgres', 'mysql'] as const satisfies readonly SessionRecord['protocol'][];

export const ALL_GRANT_STATES: readonly GrantState[] = GRANT_STATES;

export function oneOf<T extends string>(allowed: readonly T[], value: string, column: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new Error(`store: unexpected ${column} ${JSON.stringify(value)}`);
  return found;
}

export const parseGrantState = (text: string): GrantState => oneOf(GRANT_STATES, text, 'grant state');

export function toMs(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new Error('store: invalid Date');
  return ms;
}

export const toMsOrNull = (date: Date | null): number | null => (date === null ? null : toMs(date));
export const fromMsOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

function parseGroups(json: string): string[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new Error('store: approver_groups is not a JSON array of strings');
  }
  return value;
}

export function grantToRow(grant: Grant): Insertable<GrantsTable> {
  return {
    id: grant.id,
    resource: grant.resource,
    role: grant.role,
    requester: grant.requester,
    reason: grant.reason,
    policy: grant.policy,
    state: grant.state,
    end_reason: grant.endReason,
    ttl_seconds: grant.ttlSeconds,
    approvals_required: grant.approvalsRequired,
    approver_groups: JSON.stringify(grant.approverGroups),
    created_at: toMs(grant.createdAt),
    approved_at: toMsOrNull(grant.approvedAt),
    activated_at: toMsOrNull(grant.activatedAt),
    expires_at: toMs(grant.expiresAt),
    ended_at: toMsOrNull(grant.endedAt),
    scram_sha256: grant.verifiers.scramSha256,
    sha256_double: grant.verifiers.sha256Double,
    sha1_double: grant.verifiers.sha1Double,
    version: grant.version,
  };
}

export function rowToGrant(row: Selectable<GrantsTable>, decisions: readonly GrantDecision[]): Grant {
  return {
    id: row.id as GrantId,
    resource: row.resource,
    role: row.role,
    requester: row.requester,
    reason: row.reason,
    policy: row.policy,
    state: parseGrantState(row.state),
    endReason: row.end_reason === null ? null : oneOf(END_REASONS, row.end_reason, 'grant end_reason'),
    ttlSeconds: row.ttl_seconds,
    approvalsRequired: row.approvals_required,
    approverGroups: parseGroups(row.approver_groups),
    createdAt: new Date(row.created_at),
    approvedAt: fromMsOrNull(row.approved_at),
    activatedAt: fromMsOrNull(row.activated_at),
    expiresAt: new Date(row.expires_at),
    endedAt: fromMsOrNull(row.ended_at),
    verifiers: { scramSha256: row.scram_sha256, sha256Double: row.sha256_double, sha1Double: row.sha1_double },
    decisions,
    version: row.version,
  };
}

export const decisionToRow = (grantId: GrantId, decision: GrantDecision): Insertable<GrantDecisionsTable> => ({
  grant_id: grantId,
  actor: decision.actor,
  decision: decision.decision,
  comment: decision.comment,
  at: toMs(decision.at),
});

export const rowToDecision = (row: Pick<Selectable<GrantDecisionsTable>, 'actor' | 'decision' | 'comment' | 'at'>): GrantDecision => ({
  actor: row.actor,
  decision: oneOf(DECISIONS, row.decision, 'decision'),
  comment: row.comment,
  at: new Date(row.at),
});

export const auditEventToRow = (event: StoredAuditEvent): AuditEventsTable => ({
  seq: event.seq,
  id: event.id,
  ts: toMs(event.ts),
  type: event.type,
  grant_id: event.grantId,
  session_id: event.sessionId,
  actor: event.actor,
  body: event.body,
  prev: event.prev,
  hash: event.hash,
});

export const rowToAuditEvent = (row: Selectable<AuditEventsTable>): StoredAuditEvent => ({
  seq: row.seq,
  id: row.id,
  ts: new Date(row.ts),
  type: row.type,
  grantId: row.grant_id,
  sessionId: row.session_id,
  actor: row.actor,
  body: row.body,
  prev: row.prev,
  hash: row.hash,
});

export const sessionToRow = (session: SessionRecord): SessionsTable => ({
  id: session.id,
  grant_id: session.grantId,
  resource: session.resource,
  role: session.role,
  user_name: session.user,
  protocol: session.protocol,
  client_address: session.clientAddress,
  client_program: session.clientProgram,
  tls: session.tls ? 1 : 0,
  started_at: toMs(session.startedAt),
  ended_at: toMsOrNull(session.endedAt),
  end_reason: session.endReason,
  bytes_in: session.bytesIn,
  bytes_out: session.bytesOut,
  statements: session.statements,
});

export const rowToSession = (row: Selectable<SessionsTable>): SessionRecord => ({
  id: row.id as SessionId,
  grantId: row.grant_id as GrantId,
  resource: row.resource,
  role: row.role,
  user: row.user_name,
  protocol: oneOf(PROTOCOLS, row.protocol, 'session protocol'),
  clientAddress: row.client_address,
  clientProgram: row.client_program,
  tls: row.tls === 1,
  startedAt: new Date(row.started_at),
  endedAt: fromMsOrNull(row.ended_at),
  endReason: row.end_reason,
  bytesIn: row.bytes_in,
  bytesOut: row.bytes_out,
  statements: row.statements,
});

/** Only the fields the patch names; `undefined` means "leave as is", `null` means "clear". */
export function grantPatchToColumns(patch: GrantPatch): Updateable<GrantsTable> {
  const columns: Updateable<GrantsTable> = {};
  if (patch.state !== undefined) columns.state = patch.state;
  if (patch.endReason !== undefined) columns.end_reason = patch.endReason;
  if (patch.approvedAt !== undefined) columns.approved_at = toMsOrNull(patch.approvedAt);
  if (patch.activatedAt !== undefined) columns.activated_at = toMsOrNull(patch.activatedAt);
  if (patch.expiresAt !== undefined) columns.expires_at = toMs(patch.expiresAt);
  if (patch.endedAt !== undefined) columns.ended_at = toMsOrNull(patch.endedAt);
  return columns;
}

export function sessionPatchToColumns(patch: SessionPatch): Updateable<SessionsTable> {
  const columns: Updateable<SessionsTable> = {};
  if (patch.endedAt !== undefined) columns.ended_at = toMsOrNull(patch.endedAt);
  if (patch.endReason !== undefined) columns.end_reason = patch.endReason;
  if (patch.bytesIn !== undefined) columns.bytes_in = patch.bytesIn;
  if (patch.bytesOut !== undefined) columns.bytes_out = patch.bytesOut;
  if (patch.statements !== undefined) columns.statements = patch.statements;
  return columns;
}
