// Ties database users to grants (DESIGN §2, §4, §10): one lease per grant, issued lazily at its first use and shared
// by its sessions; renewed when the grant is extended; revoked when the grant ends (or, with `on_disconnect`, after
// its last session plus grace). Only this process's memory holds lease passwords, so a lease found in the store
// without one — after a restart — is revoked and issued afresh rather than trusted.
import type { Logger } from 'pino';
import type { Grant, GrantState } from '../access/grant.js';
import type { GrantId } from '../access/ids.js';
import type { AuditLog } from '../audit/events.js';
import type { ResourceConfig } from '../config/schema.js';
import type { LeaseRecord, Store } from '../store/store.js';
import type { Broker, BrokerKind, Lease, LeaseRef } from './broker.js';
import { LeaseError } from './errors.js';
import { LeaseEndWatch } from './lease-end-watch.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { Revoker, type RevocationOutcome } from './revoker.js';
import { StartSweep, leaseRefOf, type SweepReport } from './sweep.js';

/** States in which a grant may hold a database user. */
const USABLE_STATES: readonly GrantState[] = ['approved', 'active'];
const DEFAULT_LEASE_MARGIN_MS = 60_000;
const DEFAULT_EARLY_END_LEAD_MS = 5_000;
const BROKER_KINDS: readonly BrokerKind[] = ['builtin', 'vault'];

export interface LeaseManagerOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The broker for a resource's `broker:` kind; undefined when that kind is not configured. */
  readonly brokers: (kind: BrokerKind) => Broker | undefined;
  readonly resources: readonly ResourceConfig[];
  /** This deployment's id (Store.claimDeploymentId): the start sweep takes only users carrying its mark. */
  readonly deployment: string;
  /** Added to the grant's end to give the user's own end (VALID UNTIL, Vault TTL). Default 60 s. */
  readonly leaseMarginMs?: number;
  readonly now?: () => Date;
  readonly retry?: Partial<RetryPolicy>;
  readonly random?: () => number;
  /**
   * Ends a grant whose user ends before it (Vault max_ttl cap, a dead Vault token: LeaseEndWatch), `earlyEndLeadMs`
   * (default 5 s) before the user's end. Without it such grants only get a warning in the log.
   */
  readonly endGrantEarly?: (grantId: GrantId, reason: string) => void;
  readonly earlyEndLeadMs?: number;
}

const refOf = (lease: Lease): LeaseRef => ({
  leaseId: lease.leaseId, broker: lease.broker, grantId: lease.grantId, resource: lease.resource, role: lease.role,
  username: lease.username, expiresAt: lease.expiresAt,
});

export class LeaseManager {
  /** Leases this process issued and still holds, with their passwords: the only usable ones. */
  private readonly live = new Map<GrantId, Lease>();
  /** One in-flight issue per grant: concurrent first connections share it (DESIGN §10). */
  private readonly issuing = new Map<GrantId, Promise<Lease>>();
  /** `on_disconnect`: revocations waiting out the grace after a grant's last session. */
  private readonly releaseTimers = new Map<GrantId, NodeJS.Timeout>();
  private readonly resources: ReadonlyMap<string, ResourceConfig>;
  private readonly revoker: Revoker;
  private readonly startSweep: StartSweep;
  private readonly now: () => Date;
  private readonly marginMs: number;
  private readonly endWatch: LeaseEndWatch;
  private closed = false;

  constructor(private readonly options: LeaseManagerOptions) {
    this.now = options.now ?? (() => new Date());
    this.marginMs = options.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS;
    this.resources = new Map(options.resources.map((resource) => [resource.name, resource]));
    const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const random = options.random ?? Math.random;
    this.revoker = new Revoker({
      store: options.store, audit: options.audit, logger: options.logger, now: this.now, policy, random,
      brokerFor: (ref) => this.brokerOf(this.resourceOf(ref.resource)),
    });
    this.endWatch = new LeaseEndWatch({
      leadMs: options.earlyEndLeadMs ?? DEFAULT_EARLY_END_LEAD_MS, now: this.now,
      endGrant: (grantId, reason) => {
        options.logger.warn({ grant: grantId, reason }, 'ending the grant early: its database user ends before it');
        options.endGrantEarly?.(grantId, reason);
      },
    });
    for (const kind of BROKER_KINDS) {
      options.brokers(kind)?.onLeaseEnding?.((notice) => this.endWatch.leaseEnding(notice, this.live.get(notice.grantId)));
    }
    this.startSweep = new StartSweep({
      store: options.store, audit: options.audit, logger: options.logger, resources: options.resources,
      brokers: options.brokers, revoker: this.revoker, now: this.now, policy, random, deployment: options.deployment,
      inUse: (grantId, username) => this.issuing.has(grantId) || this.live.get(grantId)?.username === username,
      secretsOf: (resource) => this.secretsOf(resource),
    });
  }

  /**
   * The grant's lease, issued at its first use. Refuses grants that are not approved/active or whose end has passed.
   * The lease is in the store and `credential.issued` in the audit trail before it is returned.
   */
  acquire(grant: Grant): Promise<Lease> {
    const refused = this.refusal(grant);
    if (refused !== undefined) return refused;
    this.cancelRelease(grant.id);
    const live = this.live.get(grant.id);
    if (live !== undefined) return Promise.resolve(live);
    return this.issuing.get(grant.id) ?? this.startIssue(grant.id);
  }

  /**
   * The database refused `rejected` at the upstream login (its user was dropped or changed behind jitgate's back), so
   * the cached lease would fail every login until the grant ends. Replaces it once, under acquire's one-issue-per-grant
   * lock (DESIGN §10), with an `alert`; logins racing on the rejection share the replacement, and one whose lease was
   * already replaced gets it without a new issue. The old lease is verified gone before its name is created again.
   */
  reissue(grant: Grant, rejected: Lease): Promise<Lease> {
    const refused = this.refusal(grant);
    if (refused !== undefined) return refused;
    const live = this.live.get(grant.id);
    // The password identifies an issue: a renewed lease keeps it, a replacement has its own.
    if (live !== undefined && live.password !== rejected.password) return Promise.resolve(live);
    const issuing = this.issuing.get(grant.id);
    if (issuing !== undefined) return issuing;
    if (live === undefined) return this.acquire(grant); // revoked meanwhile (on_disconnect grace): issued as at first use
    this.live.delete(grant.id);
    this.endWatch.forget(grant.id);
    this.options.logger.warn({ grant: grant.id, resource: rejected.resource, username: rejected.username },
      'the database refused the lease user at login; issuing a new one');
    this.options.audit.emit({
      type: 'alert', severity: 'warning', grant: grant.id,
      message: `the database of resource "${rejected.resource}" refused user "${rejected.username}" of grant ${grant.id} at login `
        + '(dropped or changed outside jitgate?); issuing a new database user',
    }).catch((error: unknown) => this.options.logger.error({ err: error, grant: grant.id }, 'cannot record the re-issue alert'));
    return this.startIssue(grant.id);
  }

  /** The grant's one in-flight issue, registered before its first await so concurrent callers find it. */
  private startIssue(grantId: GrantId): Promise<Lease> {
    const started: Promise<Lease> = this.issue(grantId).finally(() => {
      if (this.issuing.get(grantId) === started) this.issuing.delete(grantId);
    });
    this.issuing.set(grantId, started);
    return started;
  }

  /** After the grant's end moved (extension): moves the user's end to match. */
  async renew(grant: Grant): Promise<Date | undefined> {
    this.requireOpen();
    const lease = this.live.get(grant.id);
    if (lease === undefined) return undefined; // not issued yet: the issue will use the new end
    const resource = this.resourceOf(lease.resource);
    const wanted = new Date(grant.expiresAt.getTime() + this.marginMs);
    const expiresAt = await this.brokerOf(resource).renew(refOf(lease), wanted);
    await this.options.store.updateLeaseExpiry(lease.leaseId, expiresAt);
    if (this.live.get(grant.id) === lease) {
      this.live.set(grant.id, { ...lease, expiresAt });
      this.endWatch.watch(grant.expiresAt, { ...lease, expiresAt });
    }
    this.options.logger.info({ grant: grant.id, username: lease.username, expiresAt: expiresAt.toISOString() }, 'lease renewed');
    return expiresAt;
  }

  /**
   * A session of the grant closed and `sessionsLeft` remain. Under `teardown: on_disconnect`, the last one schedules the
   * lease's revocation after `grace` unless a new session acquires it first; under `on_expiry` nothing happens here.
   */
  release(grant: Grant, sessionsLeft: number): void {
    const resource = this.resources.get(grant.resource);
    if (this.closed || resource?.teardown.mode !== 'on_disconnect' || sessionsLeft > 0) return;
    if (!this.live.has(grant.id) || this.releaseTimers.has(grant.id)) return;
    const timer = setTimeout(() => {
      this.releaseTimers.delete(grant.id);
      const lease = this.live.get(grant.id);
      if (lease === undefined || this.closed) return;
      // Out of `live` at once, so an acquire from now on waits for this revocation and then issues a fresh user.
      this.live.delete(grant.id);
      this.endWatch.forget(grant.id);
      this.options.logger.info({ grant: grant.id, username: lease.username }, 'last session gone for the grace period; revoking lease');
      void this.revoker.revoke({ ref: refOf(lease), secrets: this.secretsOf(lease.resource, lease) });
    }, resource.teardown.grace * 1000);
    timer.unref();
    this.releaseTimers.set(grant.id, timer);
  }

  /** The grant ended (GrantLifecycle.onEnded): revokes its lease(s); resolves with each first attempt's outcome. */
  async revokeForGrant(grant: Pick<Grant, 'id'>): Promise<RevocationOutcome[]> {
    this.cancelRelease(grant.id);
    this.endWatch.forget(grant.id);
    const attempts = new Map<string, Promise<RevocationOutcome>>();
    const revokeLive = (): void => {
      const lease = this.live.get(grant.id);
      if (lease === undefined) return;
      this.live.delete(grant.id);
      attempts.set(lease.leaseId, this.revoker.revoke({ ref: refOf(lease), secrets: this.secretsOf(lease.resource, lease) }));
    };
    revokeLive(); // first, before any store read: the user should be gone within a second of the end
    await this.issuing.get(grant.id)?.catch(() => undefined);
    revokeLive(); // issued while the grant was ending
    let stored: LeaseRecord[] = [];
    try {
      stored = await this.options.store.listLeases({ grantId: grant.id, state: ['active', 'revoking'] });
    } catch (error) {
      this.options.logger.error({ err: error, grant: grant.id }, 'cannot list stored leases of an ended grant; the start sweep will find them');
    }
    for (const lease of stored) {
      if (attempts.has(lease.leaseId)) continue;
      attempts.set(lease.leaseId, this.revoker.revoke({
        ref: leaseRefOf(lease), failures: lease.attempts, lastError: lease.lastError, secrets: this.secretsOf(lease.resource),
      }));
    }
    return Promise.all(attempts.values());
  }

  /** Crash recovery, run once at start (DESIGN §4); resolves after the first attempts, retries go on in the background. */
  sweep(): Promise<SweepReport> {
    this.requireOpen();
    return this.startSweep.run();
  }

  /** Leases whose users are not yet verified gone (retrying or under way). */
  get pendingRevocations(): number {
    return this.revoker.size;
  }

  /** Stops every timer; pending revocations stay `revoking`/`active` in the store for the next start's sweep. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.releaseTimers.values()) clearTimeout(timer);
    this.releaseTimers.clear();
    this.endWatch.close();
    this.startSweep.close();
    await Promise.allSettled([...this.issuing.values()]);
    await this.revoker.close();
  }

  private async issue(grantId: GrantId): Promise<Lease> {
    // Re-read: the caller's copy may be stale, and an ended grant must not get a user.
    const grant = await this.options.store.getGrant(grantId);
    if (grant === undefined) throw new LeaseError('unknown_grant', `no grant ${grantId}`);
    this.requireUsable(grant);
    const resource = this.resourceOf(grant.resource);
    const broker = this.brokerOf(resource);
    if (!this.options.audit.accepting()) throw new LeaseError('audit_unavailable', 'the audit trail is not accepting events; try again shortly');
    await this.clearEarlierLeases(grant.id);

    const lease = await broker.issue({
      resource, role: grant.role, grantId: grant.id, expiresAt: new Date(grant.expiresAt.getTime() + this.marginMs),
    });
    const createdAt = this.now();
    try {
      await this.options.store.insertLease({
        ...refOf(lease), state: 'active', attempts: 0, lastError: null, nextAttemptAt: null, createdAt, revokedAt: null,
      });
    } catch (error) {
      // Unrecorded means a crash would strand it: take the user down again (recorded as soon as the store lets us).
      this.options.logger.error({ err: error, grant: grant.id, username: lease.username }, 'cannot record new lease; revoking it');
      void this.revoker.revoke({ ref: refOf(lease), record: true, secrets: this.secretsOf(resource.name, lease) });
      throw new LeaseError('not_recorded', `the database user for ${grant.id} could not be recorded; try again shortly`);
    }
    this.live.set(grant.id, lease);
    this.endWatch.watch(grant.expiresAt, lease);
    await this.options.audit.emit({
      type: 'credential.issued', grant: grant.id, resource: resource.name, role: grant.role, broker: lease.broker,
      username: lease.username, leaseId: lease.leaseId, expiresAt: lease.expiresAt.toISOString(),
    });
    this.options.logger.info({ grant: grant.id, resource: resource.name, username: lease.username }, 'lease issued');
    return lease;
  }

  /**
   * The user name derives from the grant, so an earlier user of it (password lost in a restart, or revoked after
   * on_disconnect) must be verified gone before a new one is made.
   */
  private async clearEarlierLeases(grantId: GrantId): Promise<void> {
    const earlier = new Map<string, Promise<RevocationOutcome>>();
    for (const ref of this.revoker.pendingOf(grantId)) earlier.set(ref.leaseId, this.revoker.revoke({ ref }));
    for (const lease of await this.options.store.listLeases({ grantId, state: ['active', 'revoking'] })) {
      if (earlier.has(lease.leaseId)) continue;
      this.options.logger.info({ grant: grantId, username: lease.username }, 'stored lease has no password in memory; revoking it before issuing anew');
      earlier.set(lease.leaseId, this.revoker.revoke({
        ref: leaseRefOf(lease), failures: lease.attempts, lastError: lease.lastError, secrets: this.secretsOf(lease.resource),
      }));
    }
    const outcomes = await Promise.all(earlier.values());
    if (outcomes.some((outcome) => outcome !== 'revoked')) {
      throw new LeaseError('previous_lease_pending', `an earlier database user of ${grantId} is still being revoked; try again shortly`);
    }
  }

  /** acquire/reissue refuse with a rejected promise, never a throw: callers await either way. */
  private refusal(grant: Grant): Promise<never> | undefined {
    try {
      this.requireOpen();
      this.requireUsable(grant);
      return undefined;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private requireUsable(grant: Grant): void {
    if (!USABLE_STATES.includes(grant.state)) throw new LeaseError('grant_not_usable', `grant ${grant.id} is ${grant.state}`);
    if (grant.expiresAt.getTime() <= this.now().getTime()) throw new LeaseError('grant_not_usable', `grant ${grant.id} has expired`);
  }

  private requireOpen(): void {
    if (this.closed) throw new LeaseError('closed', 'the lease manager is closed');
  }

  private cancelRelease(grantId: GrantId): void {
    const timer = this.releaseTimers.get(grantId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.releaseTimers.delete(grantId);
  }

  private resourceOf(name: string): ResourceConfig {
    const resource = this.resources.get(name);
    if (resource === undefined) throw new LeaseError('unknown_resource', `resource "${name}" is not in the config`);
    return resource;
  }

  private brokerOf(resource: ResourceConfig): Broker {
    const broker = this.options.brokers(resource.broker);
    if (broker === undefined) throw new LeaseError('no_broker', `broker "${resource.broker}" of resource "${resource.name}" is not configured`);
    return broker;
  }

  /** What must never appear in a stored or audited error: the admin password, and the lease's when known. */
  private secretsOf(resourceName: string, lease?: Lease): string[] {
    const admin = this.resources.get(resourceName)?.admin?.password;
    return [admin ?? '', lease?.password.reveal() ?? ''].filter((secret) => secret !== '');
  }
}
