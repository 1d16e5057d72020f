// Lease records and `sys/leases/*` (VAULT.md §3): renew (from now, capped at issue time + max TTL, with Vault's
// warning), revoke sync/async (204/202, idempotent on unknown ids, 400 and the lease kept on plugin failure),
// lookup, LIST by prefix, revoke-prefix, revoke-force, and the irrevocable listing. The legacy `sys/renew`,
// `sys/revoke*` aliases route here too.
import type { DoubleClock } from './clock.js';
import { ExpiryEngine, type ExpirySchedule } from './expiry.js';
import {
  accepted, booleanField, emptyRead, envelope, failure, noContent, stringField, unsupportedOperation, unsupportedPath,
  type DoubleRequest, type Reply,
} from './http.js';
import { parseTtl, rfc3339 } from './names.js';

export interface LeaseEntry {
  readonly id: string;
  /** `database/` */
  readonly mount: string;
  readonly role: string;
  readonly dbName: string;
  readonly username: string;
  readonly issueTime: number;
  expireTime: number;
  lastRenewal: number | undefined;
  renewable: boolean;
  /** The token that created it: its revocation or expiry takes the lease along. */
  readonly tokenId: string | undefined;
  /** Captured at issue, used when the role has been deleted since. */
  readonly revocationStatements: readonly string[];
  attempts: number;
  irrevocable: boolean;
  lastError: string | undefined;
  timer: number | undefined;
  revoking: Promise<void> | undefined;
}

/** What the lease's secrets engine does for renew and revoke. */
export interface LeaseBackend {
  /** The new TTL (seconds) and warnings, or an error reply; runs renew statements. */
  renew(lease: LeaseEntry, increment: number | undefined): Promise<{ ttl: number; warnings: string[] } | Reply>;
  revoke(lease: LeaseEntry): Promise<void>;
}

export class LeaseStore {
  readonly #leases = new Map<string, LeaseEntry>();
  readonly engine: ExpiryEngine<LeaseEntry>;

  constructor(private readonly clock: DoubleClock, schedule: ExpirySchedule, private readonly backendOf: (mount: string) => LeaseBackend | undefined) {
    this.engine = new ExpiryEngine<LeaseEntry>({
      clock, schedule,
      revoke: (lease) => this.#backend(lease).revoke(lease),
      revoked: (lease) => this.#leases.delete(lease.id),
      alive: (lease) => this.#leases.get(lease.id) === lease,
    });
  }

  register(lease: LeaseEntry): void {
    this.#leases.set(lease.id, lease);
    this.engine.arm(lease);
  }

  all(): LeaseEntry[] {
    return [...this.#leases.values()];
  }

  /** The token cascade: every lease the token created expires now. */
  expireTokenLeases(tokenId: string): void {
    for (const lease of this.#leases.values()) if (lease.tokenId === tokenId) this.engine.expireNow(lease);
  }

  /** `rest` is the path under `sys/leases/` (or the legacy `sys/` forms mapped to it). */
  async handle(request: DoubleRequest, rest: string): Promise<Reply> {
    const [verb = '', ...tail] = rest.split('/');
    const suffix = tail.join('/');
    if (rest === '' && request.operation === 'read') return this.#irrevocable(request, false);
    if (rest === 'count' && request.operation === 'read') return this.#irrevocable(request, true);
    if (verb === 'lookup' && request.operation === 'list') return this.#list(suffix);
    if (request.operation !== 'update') return unsupportedOperation();
    const leaseId = stringField(request.body, verb === 'revoke-prefix' || verb === 'revoke-force' ? 'prefix' : 'lease_id') ?? suffix;
    switch (verb) {
      case 'renew': return this.#renew(leaseId, request.body.increment);
      case 'revoke': return this.#revoke(leaseId, booleanField(request.body, 'sync') ?? true);
      case 'lookup': return this.#lookup(leaseId);
      case 'revoke-prefix': return this.#revokePrefix(leaseId, booleanField(request.body, 'sync') ?? true);
      case 'revoke-force':
        this.forget(leaseId);
        return noContent();
      default: return unsupportedPath();
    }
  }

  async #renew(leaseId: string, incrementValue: unknown): Promise<Reply> {
    if (leaseId === '') return failure(400, 'lease_id must be specified');
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return failure(400, 'lease not found');
    if (lease.irrevocable) return failure(400, 'lease is expired and has failed previous revocation attempts');
    if (lease.expireTime <= this.clock.now()) return failure(400, 'lease expired');
    if (!lease.renewable) return failure(400, 'lease is not renewable');
    const increment = parseTtl(incrementValue);
    if (increment !== undefined && Number.isNaN(increment)) return failure(400, 'invalid increment');
    const outcome = await this.#backend(lease).renew(lease, increment);
    if ('status' in outcome) return outcome;
    const now = this.clock.now();
    lease.expireTime = now + outcome.ttl * 1000;
    lease.lastRenewal = now;
    this.engine.arm(lease);
    return envelope({ leaseId: lease.id, renewable: true, leaseDuration: outcome.ttl, warnings: outcome.warnings });
  }

  async #revoke(leaseId: string, sync: boolean): Promise<Reply> {
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return sync ? noContent() : accepted();
    if (!sync) {
      this.engine.expireNow(lease);
      return accepted();
    }
    try {
      await this.engine.revokeNow(lease);
      return noContent();
    } catch (error) {
      return revokeFailure(error);
    }
  }

  #lookup(leaseId: string): Reply {
    if (leaseId === '') return failure(400, 'lease_id must be specified');
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return failure(400, 'invalid lease');
    const ttl = Math.max(0, Math.round((lease.expireTime - this.clock.now()) / 1000));
    return envelope({
      data: {
        id: lease.id, issue_time: rfc3339(lease.issueTime), expire_time: rfc3339(lease.expireTime),
        last_renewal: lease.lastRenewal === undefined ? null : rfc3339(lease.lastRenewal), renewable: lease.renewable, ttl,
      },
      mountType: 'system',
    });
  }

  #list(prefix: string): Reply {
    const keys = new Set<string>();
    for (const id of this.#leases.keys()) {
      if (!id.startsWith(prefix)) continue;
      const rest = id.slice(prefix.length);
      const slash = rest.indexOf('/');
      keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return keys.size === 0 ? emptyRead() : envelope({ data: { keys: [...keys].sort() }, mountType: 'system' });
  }

  async #revokePrefix(prefix: string, sync: boolean): Promise<Reply> {
    const matching = this.all().filter((lease) => lease.id.startsWith(prefix));
    if (!sync) {
      for (const lease of matching) this.engine.expireNow(lease);
      return accepted();
    }
    const results = await Promise.allSettled(matching.map((lease) => this.engine.revokeNow(lease)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    return failed === undefined ? noContent() : revokeFailure(failed.reason);
  }

  /** revoke-force: the records under `prefix` go, whatever the database says (their users are leaked). */
  forget(prefix: string): void {
    for (const lease of this.all()) {
      if (!lease.id.startsWith(prefix)) continue;
      this.engine.disarm(lease);
      this.#leases.delete(lease.id);
    }
  }

  #irrevocable(request: DoubleRequest, countOnly: boolean): Reply {
    if (request.query.get('type') !== 'irrevocable') return failure(400, 'unsupported lease type: only "irrevocable" can be listed');
    const stuck = this.all().filter((lease) => lease.irrevocable);
    const data = countOnly ? { lease_count: stuck.length } : {
      lease_count: stuck.length,
      leases: stuck.map((lease) => ({ lease_id: lease.id, mount_id: lease.mount, error: lease.lastError ?? '', expire_time: rfc3339(lease.expireTime) })),
    };
    return envelope({ data, mountType: 'system' });
  }

  #backend(lease: LeaseEntry): LeaseBackend {
    const backend = this.backendOf(lease.mount);
    if (backend === undefined) throw new Error(`no backend mounted at ${lease.mount}`);
    return backend;
  }
}

const revokeFailure = (error: unknown): Reply =>
  failure(400, `failed to revoke entry: resp: (*logical.Response)(nil) err: ${error instanceof Error ? error.message : String(error)}`);
