// Brokers turn a grant into a database user that exists only while the grant does (DESIGN §5). The builtin broker
// creates users itself with the resource's admin credentials; the vault broker asks Vault's database engine.
import type { Secret } from '../audit/secret.js';
import type { GrantId } from '../access/ids.js';
import type { ResourceConfig } from '../config/schema.js';

export type BrokerKind = 'builtin' | 'vault';

/** A dynamic database user of one grant. The password lives in memory only; the store keeps the rest. */
export interface Lease {
  /** The broker's id for the lease: Vault's `lease_id`, or `builtin/<resource>/<username>`. */
  readonly leaseId: string;
  readonly broker: BrokerKind;
  readonly grantId: GrantId;
  readonly resource: string;
  readonly role: string;
  readonly username: string;
  readonly password: Secret;
  /** When the database (VALID UNTIL) or Vault removes the user even if jitgate is gone. */
  readonly expiresAt: Date;
  /**
   * Set when the broker could not give the user the end it was asked for (Vault's role max_ttl, a broker token that
   * ends sooner): why `expiresAt` is earlier. The lease manager then ends the grant before the user disappears.
   */
  readonly capReason?: string;
}

/** What a broker needs to know about the lease request. */
export interface IssueRequest {
  readonly resource: ResourceConfig;
  readonly role: string;
  readonly grantId: GrantId;
  /** The grant's remaining time plus a margin: the user's own end. */
  readonly expiresAt: Date;
}

/** The outcome of checking a revocation on the database itself. */
export interface RevocationCheck {
  readonly userExists: boolean;
  /** Server-side sessions of the user still connected. */
  readonly sessions: number;
}

/** A broker learnt that a lease ends sooner than it said (e.g. the Vault token that minted it died). */
export interface LeaseEndingNotice {
  readonly leaseId: string;
  readonly grantId: GrantId;
  readonly endsAt: Date;
  readonly reason: string;
}

/** For /healthz: `ok`, or a short word for what is wrong (`sealed`, `unreachable`, …) and a sentence. */
export interface BrokerHealth {
  readonly status: string;
  readonly detail: string;
}

export interface Broker {
  readonly kind: BrokerKind;
  /** Creates the user; on failure nothing half-made survives (rollback or drop). */
  issue(request: IssueRequest): Promise<Lease>;
  /** Moves the user's end (grant extended); returns the new end, which a broker may cap. */
  renew(lease: LeaseRef, expiresAt: Date): Promise<Date>;
  /** Ends the user's sessions and removes the user. Throws when it could not; callers retry. */
  revoke(lease: LeaseRef): Promise<void>;
  /** Checks the database for the user and its sessions. */
  exists(lease: LeaseRef): Promise<RevocationCheck>;
  /** Users on `resource` that carry jitgate's username prefix (for the crash-recovery sweep). */
  listManagedUsers(resource: ResourceConfig): Promise<string[]>;
  /** Whether the broker can issue now (brokers with a remote service, such as Vault). */
  health?(): Promise<BrokerHealth>;
  /** Subscribes to leases ending before their `expiresAt` (see LeaseEndingNotice). */
  onLeaseEnding?(listener: (notice: LeaseEndingNotice) => void): void;
  close(): Promise<void>;
}

/** A lease as far as renew/revoke/exists need it: what survives a restart (no password). */
export type LeaseRef = Pick<Lease, 'leaseId' | 'broker' | 'grantId' | 'resource' | 'role' | 'username' | 'expiresAt'>;

/** `jg_`: every user jitgate creates starts with it, and the sweep touches no other user. */
export const MANAGED_USER_PREFIX = 'jg_';
