// The store: everything jitgate must remember across restarts, behind one interface with two implementations
// (embedded SQLite, shared PostgreSQL) that share one migration history.
import type { Grant, GrantDecision, GrantEndReason, GrantState } from '../access/grant.js';
import type { GrantId, SessionId } from '../access/ids.js';
import type { BrokerKind } from '../credentials/broker.js';
import type { AuditBatchColumns, AuditChainHead, ChainAssignment, PendingAuditEvent, StoredAuditEvent } from '../audit/records.js';

/** Fields a grant may change after creation; the store applies them only if `version` still matches. */
export interface GrantPatch {
  readonly state?: GrantState;
  readonly endReason?: GrantEndReason | null;
  readonly approvedAt?: Date | null;
  readonly activatedAt?: Date | null;
  readonly expiresAt?: Date;
  readonly endedAt?: Date | null;
}

/** Fields a session may change after it started. */
export type SessionPatch = Partial<Pick<SessionRecord, 'endedAt' | 'endReason' | 'bytesIn' | 'bytesOut' | 'statements'>>;

/** A grant the reaper just ended, with the state it left: the `grant.expired` event records it. */
export interface ExpiredGrant extends Grant {
  readonly previousState: GrantState;
}

export interface GrantFilter {
  readonly state?: GrantState;
  readonly requester?: string;
  readonly resource?: string;
  readonly limit?: number;
}

export type { AuditChainHead, PendingAuditEvent, StoredAuditEvent } from '../audit/records.js';

export interface SessionRecord {
  readonly id: SessionId;
  readonly grantId: GrantId;
  readonly resource: string;
  readonly role: string;
  readonly user: string;
  readonly protocol: 'postgres' | 'mysql';
  readonly clientAddress: string;
  readonly clientProgram: string | null;
  readonly tls: boolean;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
  readonly endReason: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly statements: number;
}

export interface SessionFilter {
  readonly grantId?: string;
  readonly resource?: string;
  readonly user?: string;
  readonly since?: Date;
  /** Keeps sessions started before it (with `since`: started in [since, until)). */
  readonly until?: Date;
  /** true: only sessions still open (no `endedAt`); false: only ended ones. */
  readonly active?: boolean;
  /** Keyset paging: continue after this row of the newest-first order (the last row of the previous page). */
  readonly before?: SessionCursor;
  readonly limit?: number;
}

/** A position in the newest-first session order: `(startedAt, id)` descending. */
export interface SessionCursor {
  readonly startedAt: Date;
  readonly id: string;
}

/** One page of a session's statement events, by chain seq. */
export interface StatementPageQuery {
  /** Events with seq > afterSeq, oldest first (default 0: from the start). */
  readonly afterSeq?: number;
  /** Instead: the `limit` events with seq < beforeSeq closest to it, still returned oldest first. */
  readonly beforeSeq?: number;
  readonly limit: number;
  /** Only statements that failed (carry an `error`). */
  readonly errorsOnly?: boolean;
}

/** A text search over recorded SQL; every filter narrows it. */
export interface StatementSearchQuery {
  /** Matched case-insensitively as a plain substring of the statement's SQL: `%`, `_` and `!` are literal. */
  readonly text: string;
  readonly sessionId?: string;
  readonly grantId?: string;
  readonly resource?: string;
  readonly user?: string;
  /** Keyset paging: only events with a chain seq below this. */
  readonly beforeSeq?: number;
  readonly limit: number;
}

/** A matching statement event with who ran it and where (null when its session row is missing). */
export interface StatementMatch {
  readonly event: StoredAuditEvent;
  readonly user: string | null;
  readonly resource: string | null;
}

/** `active` while usable; `revoking` from the first revocation attempt until verified gone; then `revoked`. */
export type LeaseState = 'active' | 'revoking' | 'revoked';

/**
 * A lease as stored: everything needed to find and revoke its user after a restart. Deliberately no password: the
 * password lives in memory only, so a restart makes a stored lease unusable (the lease manager then revokes it).
 */
export interface LeaseRecord {
  /** The broker's id (`builtin/<resource>/<username>`, or Vault's lease_id). */
  readonly leaseId: string;
  readonly grantId: GrantId;
  readonly resource: string;
  readonly role: string;
  readonly broker: BrokerKind;
  readonly username: string;
  readonly expiresAt: Date;
  readonly state: LeaseState;
  /** Failed revocation attempts so far. */
  readonly attempts: number;
  /** The last revocation error, secret-free. */
  readonly lastError: string | null;
  readonly nextAttemptAt: Date | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

export interface LeaseFilter {
  readonly state?: LeaseState | readonly LeaseState[];
  readonly grantId?: GrantId;
}

/** What a failed (or starting) revocation attempt records. */
export interface RevocationProgress {
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: Date | null;
}

/** insertLease found an unrevoked lease with the same id: its user has not been verified gone. */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
  constructor(readonly leaseId: string) {
    super(`store: lease ${leaseId} already exists and is not revoked`);
  }
}

export interface Store {
  /** `sqlite` or `postgres`: lets callers word messages and metrics, never branch on behaviour. */
  readonly kind: 'sqlite' | 'postgres';

  insertGrant(grant: Grant): Promise<void>;
  getGrant(id: GrantId): Promise<Grant | undefined>;
  /** Newest first (createdAt descending). */
  listGrants(filter?: GrantFilter): Promise<Grant[]>;
  /** Compare-and-set on `expectedVersion`; returns the updated grant, or undefined when someone else won. */
  updateGrant(id: GrantId, expectedVersion: number, patch: GrantPatch): Promise<Grant | undefined>;
  /** Appends an approve/deny decision (approvals are rows, so two approvers cannot overwrite each other). */
  addDecision(id: GrantId, decision: GrantDecision): Promise<void>;
  /** Earliest `expiresAt` among open grants (pending/approved/active), or undefined when none is open. */
  nextGrantExpiry(): Promise<Date | undefined>;
  /**
   * Atomically ends every open grant whose `expiresAt` ≤ now and returns them in their ended form. Safe with several
   * jitgate instances on one PostgreSQL store: each grant is returned to exactly one caller.
   */
  endDueGrants(now: Date): Promise<ExpiredGrant[]>;
  countGrantsByState(): Promise<Record<GrantState, number>>;

  /** Links `events` to the chain head (audit/chain.ts chainBatch) and appends them in one transaction; returns the stored records. */
  appendAuditEvents(events: readonly PendingAuditEvent[]): Promise<StoredAuditEvent[]>;
  /** The same append for a flat batch (the audit log's write path): where the events went in the chain. */
  appendAuditColumns(columns: AuditBatchColumns): Promise<ChainAssignment>;
  auditHead(): Promise<AuditChainHead | undefined>;
  /** Events with seq > afterSeq in chain order. */
  readAuditEvents(afterSeq: number, limit: number): Promise<StoredAuditEvent[]>;
  /** Events of one session in chain order, paged by seq. */
  readSessionEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredAuditEvent[]>;
  /** Only the `statement` events of one session, in chain order, one page at a time. */
  readSessionStatements(sessionId: string, page: StatementPageQuery): Promise<StoredAuditEvent[]>;
  /** Statement events per session id (sessions without any are absent): open sessions count only at their end. */
  countSessionStatements(sessionIds: readonly string[]): Promise<Map<string, number>>;
  /** Statement events whose SQL contains the text, newest first. */
  searchStatements(query: StatementSearchQuery): Promise<StatementMatch[]>;

  /** Session writes may be group-committed (the SQLite store waits up to 20 ms for company): do not await them in a loop. */
  insertSession(session: SessionRecord): Promise<void>;
  updateSession(id: SessionId, patch: SessionPatch): Promise<void>;
  getSession(id: SessionId): Promise<SessionRecord | undefined>;
  /** Newest first (startedAt, then id, descending); `since` keeps sessions started at or after it. */
  listSessions(filter?: SessionFilter): Promise<SessionRecord[]>;

  /**
   * Records a lease. Builtin lease ids repeat when a grant's user is issued again (the name derives from the grant):
   * a `revoked` row with the same id is replaced; an unrevoked one raises LeaseConflictError.
   */
  insertLease(lease: LeaseRecord): Promise<void>;
  /** The grant's `active` lease, if any. */
  getLeaseByGrant(grantId: GrantId): Promise<LeaseRecord | undefined>;
  /** Oldest first (createdAt ascending). */
  listLeases(filter?: LeaseFilter): Promise<LeaseRecord[]>;
  /** Moves an unrevoked lease to `revoking` with the attempt's outcome; false when it is missing or already revoked. */
  markLeaseRevoking(leaseId: string, progress: RevocationProgress): Promise<boolean>;
  /** Marks the lease revoked (its user verified gone); false when it is missing or already revoked. */
  markLeaseRevoked(leaseId: string, at: Date): Promise<boolean>;
  /** Records a renewed end of an active lease; false when it is missing or not active. */
  updateLeaseExpiry(leaseId: string, expiresAt: Date): Promise<boolean>;

  /**
   * This store's deployment id: `candidate` is recorded as it when the store has none yet (the first start), and
   * from then on every call, from any instance sharing the store, returns the one recorded first.
   */
  claimDeploymentId(candidate: string, at: Date): Promise<string>;

  close(): Promise<void>;
}
