// What the session core (and the wire engines in front of it) need from the rest of jitgate, as interfaces main.ts
// fills in (STYLE: engines never pick their own brokers, sinks or store).
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Grant } from '../access/grant.js';
import type { AuditLog } from '../audit/events.js';
import type { ParametersMode } from '../audit/statement-recorder.js';
import type { ResourceConfig } from '../config/schema.js';
import type { Lease } from '../credentials/broker.js';
import type { SessionPatch, SessionRecord } from '../store/store.js';
import type { SessionRegistry } from './registry.js';

export interface GrantDirectory {
  /** The grant a login names, or undefined (unknown id or not a grant id at all). */
  lookup(id: string): Promise<Grant | undefined>;
  /** Marks an approved grant active at its first session. */
  activate(grant: Grant): Promise<void>;
  /** Whether the grant's policy lets a client connect from `address` (source CIDRs). */
  allowsAddress(grant: Grant, address: string): boolean;
}

export interface LeaseSource {
  /** The grant's one shared database user, created at first use (DESIGN §10: never per connection). */
  acquire(grant: Grant): Promise<Lease>;
  /**
   * The database refused `rejected` at the upstream login (its user was dropped or changed behind jitgate's back):
   * the grant's replacement lease, issued once however many logins ask (and alerted), or the one already issued.
   */
  reissue(grant: Grant, rejected: Lease): Promise<Lease>;
  /** A session of the grant closed; `remaining` sessions are still open (teardown on_disconnect counts them). */
  released(grant: Grant, remaining: number): void;
}

export interface SessionRecords {
  insertSession(session: SessionRecord): Promise<void>;
  updateSession(id: SessionRecord['id'], patch: SessionPatch): Promise<void>;
}

/** What both wire engines and the session core share. */
export interface SessionCoreDeps {
  readonly grants: GrantDirectory;
  readonly leases: LeaseSource;
  readonly audit: AuditLog;
  readonly sessions: SessionRegistry;
  readonly sessionRecords: SessionRecords;
  readonly resources: (name: string) => ResourceConfig | undefined;
  readonly logger: Logger;
  /** Aborted when jitgate shuts down: every session ends, telling its client. */
  readonly shutdown: AbortSignal;
  readonly tls: { readonly context: SecureContext | undefined; readonly require: boolean };
  readonly maxAuditSqlBytes: number;
  readonly parameters: ParametersMode;
  /** Before a grant's end, a client that can be told (Postgres: a NoticeResponse) is warned this long ahead. */
  readonly warnBeforeMs: number;
  /** `audit.durability: fsync`: a statement's result reaches the client only once its event is delivered. */
  readonly holdRepliesForAudit?: boolean;
  /** Per-process secret behind the mock verifiers of unknown grants. */
  readonly mockSecretKey: Uint8Array;
}
