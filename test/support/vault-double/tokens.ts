// The token store (VAULT.md §1): `hvs.` service tokens with TTL, max TTL or period, parent/child links, expiry
// timers on the double's clock, and the cascade — a revoked or expired token takes its non-orphan children and
// every lease it created with it (the leases are then revoked asynchronously by the expiry engine).
import type { DoubleClock } from './clock.js';
import { envelope, failure, noContent, stringField, booleanField, commaList, type DoubleRequest, type Reply, wrapped } from './http.js';
import { goDuration, newAccessor, newEntityId, newTokenId, parseTtl, rfc3339 } from './names.js';

export const MOUNT_DEFAULT_TTL = 768 * 3600;
export const MOUNT_MAX_TTL = 768 * 3600;

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly path: string;
  readonly createdAt: number;
  readonly creationTtl: number;
  /** Double-clock ms; undefined: never expires (root). */
  expireAt: number | undefined;
  readonly explicitMaxTtl: number;
  /** The end renewals cannot pass (undefined: none). */
  readonly maxEnd: number | undefined;
  readonly period: number;
  readonly renewable: boolean;
  readonly orphan: boolean;
  readonly parent: string | undefined;
  readonly children: Set<string>;
  readonly entityId: string;
  readonly roleName: string | undefined;
  lastRenewal: number | undefined;
  timer: number | undefined;
}

export interface TokenSpec {
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly meta?: Record<string, string>;
  readonly path: string;
  /** Seconds; 0 = mount default. */
  readonly ttl?: number;
  readonly maxTtl?: number;
  readonly explicitMaxTtl?: number;
  readonly period?: number;
  readonly renewable?: boolean;
  readonly parent?: TokenEntry;
  readonly orphan: boolean;
  readonly roleName?: string;
  /** The dev root token: no TTL at all. */
  readonly noExpiry?: boolean;
}

export class TokenStore {
  readonly #tokens = new Map<string, TokenEntry>();

  constructor(
    private readonly clock: DoubleClock,
    /** Called for every revoked or expired token, children first: the lease cascade. */
    private readonly onRevoked: (token: TokenEntry) => void,
  ) {}

  createRoot(id: string): TokenEntry {
    return this.#make(id, { policies: ['root'], displayName: 'root', path: 'auth/token/root', orphan: true, renewable: false, noExpiry: true });
  }

  create(spec: TokenSpec): TokenEntry {
    return this.#make(newTokenId(), spec);
  }

  /** A token that is valid now; an expired one is revoked on the spot (its timer may not have fired yet). */
  find(id: string | undefined): TokenEntry | undefined {
    if (id === undefined || id === '') return undefined;
    const entry = this.#tokens.get(id);
    if (entry === undefined) return undefined;
    if (entry.expireAt !== undefined && entry.expireAt <= this.clock.now()) {
      this.revoke(entry);
      return undefined;
    }
    return entry;
  }

  findByAccessor(accessor: string): TokenEntry | undefined {
    for (const entry of this.#tokens.values()) if (entry.accessor === accessor) return this.find(entry.id);
    return undefined;
  }

  revoke(entry: TokenEntry): void {
    if (!this.#tokens.delete(entry.id)) return;
    this.clock.cancel(entry.timer);
    for (const child of entry.children) {
      const childEntry = this.#tokens.get(child);
      if (childEntry !== undefined && !childEntry.orphan) this.revoke(childEntry);
    }
    this.onRevoked(entry);
  }

  /** Makes the token expire now (test hook): the same path as its timer. */
  expireNow(entry: TokenEntry): void {
    entry.expireAt = this.clock.now();
    this.revoke(entry);
  }

  get size(): number {
    return this.#tokens.size;
  }

  /** Live tokens logged in through AppRole role `role`. */
  ofRole(role: string): TokenEntry[] {
    return [...this.#tokens.values()].filter((entry) => entry.roleName === role);
  }

  authBlock(entry: TokenEntry): Record<string, unknown> {
    const ttl = this.ttlOf(entry);
    const tokenPolicies = entry.policies;
    return {
      client_token: entry.id, accessor: entry.accessor, policies: tokenPolicies, token_policies: tokenPolicies, metadata: entry.meta,
      lease_duration: ttl, renewable: entry.renewable, entity_id: entry.entityId, token_type: 'service', orphan: entry.orphan,
      mfa_requirement: null, num_uses: 0,
    };
  }

  ttlOf(entry: TokenEntry): number {
    return entry.expireAt === undefined ? 0 : Math.max(0, Math.round((entry.expireAt - this.clock.now()) / 1000));
  }

  lookupSelf(entry: TokenEntry): Reply {
    const data: Record<string, unknown> = {
      id: entry.id, accessor: entry.accessor, policies: entry.policies, path: entry.path, meta: entry.meta,
      display_name: entry.displayName, num_uses: 0, orphan: entry.orphan, creation_time: Math.floor(entry.createdAt / 1000),
      creation_ttl: entry.creationTtl, expire_time: entry.expireAt === undefined ? null : rfc3339(entry.expireAt), ttl: this.ttlOf(entry),
      explicit_max_ttl: entry.explicitMaxTtl, entity_id: entry.entityId, type: 'service', issue_time: rfc3339(entry.createdAt),
      renewable: entry.renewable,
    };
    if (entry.lastRenewal !== undefined) {
      data.last_renewal_time = Math.floor(entry.lastRenewal / 1000);
      data.last_renewal = rfc3339(entry.lastRenewal);
    }
    if (entry.period > 0) data.period = entry.period;
    if (entry.roleName !== undefined) data.role = entry.roleName;
    return envelope({ data, mountType: 'token' });
  }

  /** renew-self: the new TTL counts from now, cut to what the max TTL leaves (with Vault's warning). */
  renew(entry: TokenEntry, incrementValue: unknown): Reply {
    if (!entry.renewable || entry.expireAt === undefined) return failure(400, 'lease is not renewable');
    const increment = parseTtl(incrementValue);
    if (increment !== undefined && Number.isNaN(increment)) return failure(400, 'invalid increment');
    const now = this.clock.now();
    let ttl = entry.period > 0 ? entry.period : (increment !== undefined && increment > 0 ? increment : entry.creationTtl);
    const warnings: string[] = [];
    if (entry.maxEnd !== undefined) {
      const left = Math.floor((entry.maxEnd - now) / 1000);
      if (left <= 0) return wrapped(400, 'past the max TTL, cannot renew');
      if (ttl > left) {
        warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(left)}"; TTL value is capped accordingly`);
        ttl = left;
      }
    }
    entry.expireAt = now + ttl * 1000;
    entry.lastRenewal = now;
    this.#arm(entry);
    return envelope({ auth: this.authBlock(entry), warnings, mountType: 'token' });
  }

  /** `auth/token/*` routes other than login-style ones. */
  handle(request: DoubleRequest, caller: TokenEntry, rest: string, sudoAllowed: boolean): Reply {
    switch (rest) {
      case 'lookup-self':
        return request.operation === 'read' ? this.lookupSelf(caller) : failure(405, 'unsupported operation');
      case 'renew-self':
        return this.renew(caller, request.body.increment);
      case 'revoke-self':
        this.revoke(caller);
        return noContent();
      case 'revoke': {
        const target = this.find(stringField(request.body, 'token'));
        if (target !== undefined) this.revoke(target);
        return noContent();
      }
      case 'create':
      case 'create-orphan':
        return this.#createFromRequest(request, caller, rest === 'create-orphan' || (booleanField(request.body, 'no_parent') === true && sudoAllowed));
      default:
        return failure(404, 'unsupported path');
    }
  }

  #createFromRequest(request: DoubleRequest, caller: TokenEntry, orphan: boolean): Reply {
    const ttl = parseTtl(request.body.ttl);
    const explicitMaxTtl = parseTtl(request.body.explicit_max_ttl);
    const period = parseTtl(request.body.period);
    if ([ttl, explicitMaxTtl, period].some((value) => value !== undefined && Number.isNaN(value))) return failure(400, 'invalid ttl');
    const display = stringField(request.body, 'display_name');
    const requested = commaList(request.body.policies) ?? caller.policies.filter((policy) => policy !== 'root' || caller.policies.includes('root'));
    const policies = booleanField(request.body, 'no_default_policy') === true || requested.includes('root') ? requested : [...new Set(['default', ...requested])];
    const entry = this.create({
      policies: [...policies].sort(), displayName: display === undefined || display === '' ? 'token' : `token-${display}`,
      path: request.path, ttl: ttl ?? 0, explicitMaxTtl: explicitMaxTtl ?? 0, period: period ?? 0,
      renewable: booleanField(request.body, 'renewable') ?? true, parent: caller, orphan,
    });
    return envelope({ auth: this.authBlock(entry), mountType: 'token' });
  }

  #make(id: string, spec: TokenSpec): TokenEntry {
    const now = this.clock.now();
    const period = spec.period ?? 0;
    const explicitMax = spec.explicitMaxTtl ?? 0;
    const maxTtl = Math.min(spec.maxTtl !== undefined && spec.maxTtl > 0 ? spec.maxTtl : MOUNT_MAX_TTL, explicitMax > 0 ? explicitMax : Infinity);
    let ttl = period > 0 ? period : Math.min(spec.ttl !== undefined && spec.ttl > 0 ? spec.ttl : MOUNT_DEFAULT_TTL, maxTtl);
    if (explicitMax > 0) ttl = Math.min(ttl, explicitMax);
    if (spec.noExpiry === true) ttl = 0;
    const maxEnd = spec.noExpiry === true ? undefined : period > 0 ? (explicitMax > 0 ? now + explicitMax * 1000 : undefined) : now + maxTtl * 1000;
    const entry: TokenEntry = {
      id, accessor: newAccessor(), policies: spec.policies, displayName: spec.displayName, meta: spec.meta ?? null, path: spec.path,
      createdAt: now, creationTtl: ttl, expireAt: spec.noExpiry === true ? undefined : now + ttl * 1000, explicitMaxTtl: explicitMax, maxEnd, period,
      renewable: spec.renewable ?? true, orphan: spec.orphan, parent: spec.orphan ? undefined : spec.parent?.id, children: new Set(),
      entityId: spec.policies.includes('root') ? '' : newEntityId(), roleName: spec.roleName, lastRenewal: undefined, timer: undefined,
    };
    this.#tokens.set(id, entry);
    if (!spec.orphan) spec.parent?.children.add(id);
    this.#arm(entry);
    return entry;
  }

  #arm(entry: TokenEntry): void {
    this.clock.cancel(entry.timer);
    entry.timer = undefined;
    if (entry.expireAt === undefined) return;
    entry.timer = this.clock.at(entry.expireAt, () => {
      if (this.#tokens.get(entry.id) === entry) this.revoke(entry);
    });
  }
}
