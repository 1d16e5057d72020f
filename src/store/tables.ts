// Row shapes of the tables, as Kysely sees them. Every time column holds epoch milliseconds (integer in SQLite,
// bigint in PostgreSQL): one representation on both dialects, exact to the millisecond, compared as plain numbers.
import type { Generated } from 'kysely';

export interface GrantsTable {
  id: string;
  resource: string;
  role: string;
  requester: string;
  reason: string;
  policy: string;
  state: string;
  end_reason: string | null;
  ttl_seconds: number;
  approvals_required: number;
  /** JSON array of group names. */
  approver_groups: string;
  created_at: number;
  approved_at: number | null;
  activated_at: number | null;
  expires_at: number;
  ended_at: number | null;
  scram_sha256: string;
  sha256_double: string;
  sha1_double: string;
  version: number;
}

export interface GrantDecisionsTable {
  /** Insertion order: decisions come back in the order they were appended. */
  id: Generated<number>;
  grant_id: string;
  actor: string;
  decision: string;
  comment: string;
  at: number;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  ts: number;
  type: string;
  grant_id: string | null;
  session_id: string | null;
  actor: string | null;
  body: string;
  prev: string;
  hash: string;
}

export interface SessionsTable {
  id: string;
  grant_id: string;
  resource: string;
  role: string;
  /** `user` is a reserved word in PostgreSQL (it means current_user in raw SQL), hence the longer name. */
  user_name: string;
  protocol: string;
  client_address: string;
  client_program: string | null;
  /** 0 or 1: SQLite has no boolean, and one representation keeps the row mapping dialect-free. */
  tls: number;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  bytes_in: number;
  bytes_out: number;
  statements: number;
}

export interface LeasesTable {
  lease_id: string;
  grant_id: string;
  resource: string;
  role: string;
  broker: string;
  username: string;
  expires_at: number;
  state: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

/** One row (singleton = 1): the id this store's deployment marks its database users with. */
export interface DeploymentTable {
  singleton: number;
  id: string;
  created_at: number;
}

export interface Database {
  grants: GrantsTable;
  grant_decisions: GrantDecisionsTable;
  audit_events: AuditEventsTable;
  sessions: SessionsTable;
  leases: LeasesTable;
  deployment: DeploymentTable;
}
