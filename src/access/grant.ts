// The grant: the one object everything in jitgate hangs off (DESIGN §2).
import type { GrantId } from './ids.js';

export type GrantState = 'pending' | 'approved' | 'active' | 'denied' | 'ended';
export type GrantEndReason = 'expired' | 'revoked' | 'cancelled';

/** States a grant can still leave; the expiry scheduler watches exactly these. */
export const OPEN_GRANT_STATES: readonly GrantState[] = ['pending', 'approved', 'active'];

/** What jitgate keeps of the grant's token: verifiers only, never the token (DESIGN §2). */
export interface TokenVerifiers {
  /** PostgreSQL SCRAM secret: `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`. */
  readonly scramSha256: string;
  /** hex SHA256(SHA256(token)), for MySQL caching_sha2_password fast auth. */
  readonly sha256Double: string;
  /** hex SHA1(SHA1(token)), for mysql_native_password. */
  readonly sha1Double: string;
}

export interface GrantDecision {
  readonly actor: string;
  readonly decision: 'approve' | 'deny';
  readonly comment: string;
  readonly at: Date;
}

export interface Grant {
  readonly id: GrantId;
  readonly resource: string;
  readonly role: string;
  /** Name of the identity that asked. */
  readonly requester: string;
  readonly reason: string;
  /** The policy that matched; it decides approval and the ttl ceiling. */
  readonly policy: string;
  readonly state: GrantState;
  readonly endReason: GrantEndReason | null;
  /** Granted duration after approval, already clamped to the policy and role max_ttl. */
  readonly ttlSeconds: number;
  /** Approvals needed (0 for auto-approval). */
  readonly approvalsRequired: number;
  /** Groups whose members may approve. */
  readonly approverGroups: readonly string[];
  readonly createdAt: Date;
  readonly approvedAt: Date | null;
  readonly activatedAt: Date | null;
  /**
   * The hard end: while pending, when the request lapses unapproved; once approved, approvedAt + ttl.
   * Every grant has one (DESIGN §10: "grants without an end, anywhere").
   */
  readonly expiresAt: Date;
  readonly endedAt: Date | null;
  readonly verifiers: TokenVerifiers;
  readonly decisions: readonly GrantDecision[];
  /** Optimistic-concurrency counter: every update must name the version it read. */
  readonly version: number;
}
