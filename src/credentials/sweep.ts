// Crash recovery at start (DESIGN §4): (a) every unrevoked lease in the store is revoked — its grant has ended, or
// its password died with the previous process, so it can never be used again; (b) every jitgate user on a resource
// that carries this deployment's mark and that no recorded lease accounts for (a crash between creating a user and
// recording it) is recorded and revoked. A user of another deployment on the same server (another mark), or one named
// before marks existed, is never revoked by (b): only (a), this store's own record of it, can take it.
// Runs in the background: a resource that is down is listed again with backoff, revocations retry in the Revoker.
import type { Logger } from 'pino';
import type { GrantId } from '../access/ids.js';
import type { AuditEventInput, AuditLog } from '../audit/events.js';
import type { ResourceConfig } from '../config/schema.js';
import type { LeaseRecord, Store } from '../store/store.js';
import type { Broker, BrokerKind, LeaseRef } from './broker.js';
import { deploymentMark } from './deployment.js';
import { parseManagedUsername } from './managed-users.js';
import { describeRevocationError, retryDelayMs, shouldAlert, type RetryPolicy } from './retry-policy.js';
import type { RevocationOutcome, Revoker } from './revoker.js';

export interface SweepOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly resources: readonly ResourceConfig[];
  readonly brokers: (kind: BrokerKind) => Broker | undefined;
  readonly revoker: Revoker;
  /** This deployment's id: only users carrying its mark are swept as orphans. */
  readonly deployment: string;
  /** True while this process holds the grant's user or is creating it: such a user is never swept. */
  readonly inUse: (grantId: GrantId, username: string) => boolean;
  readonly secretsOf: (resource: string) => string[];
  readonly now: () => Date;
  readonly policy: RetryPolicy;
  readonly random: () => number;
}

export interface SweepReport {
  /** Stored leases whose revocation the sweep started. */
  readonly leases: number;
  /** Users found on resources without a lease record, revocation started. */
  readonly orphans: number;
  /** jitgate users left alone: another deployment's (another mark), or named before marks and not in this store. */
  readonly foreign: number;
  /** Resources whose users could not be listed yet (retried in the background). */
  readonly unreachable: readonly string[];
  /** First-attempt outcomes; `retrying` ones continue in the Revoker. */
  readonly outcomes: readonly RevocationOutcome[];
}

interface ResourceSweep {
  readonly listed: boolean;
  readonly outcomes: readonly RevocationOutcome[];
  readonly foreign: number;
}

/** What the sweep decided about one user on a resource: revoke it, keep it (ours, accounted for), or not ours. */
type UserVerdict = { readonly revocation: Promise<RevocationOutcome> } | 'kept' | 'foreign';

export const leaseRefOf = (lease: LeaseRecord): LeaseRef => ({
  leaseId: lease.leaseId, broker: lease.broker, grantId: lease.grantId, resource: lease.resource, role: lease.role,
  username: lease.username, expiresAt: lease.expiresAt,
});

export class StartSweep {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly mark: string;
  private closed = false;

  constructor(private readonly options: SweepOptions) {
    this.mark = deploymentMark(options.deployment);
  }

  /** Resolves when every first attempt is done; listings that failed are retried in the background until close(). */
  async run(): Promise<SweepReport> {
    const stored = await this.sweepStoredLeases(0);
    const resources = await Promise.all(this.options.resources.map((resource) => this.sweepResource(resource, 0)));
    const orphanOutcomes = resources.flatMap((sweep) => sweep.outcomes);
    const report: SweepReport = {
      leases: stored.length,
      orphans: orphanOutcomes.length,
      foreign: resources.reduce((sum, sweep) => sum + sweep.foreign, 0),
      unreachable: this.options.resources.filter((_, index) => resources[index]?.listed !== true).map((resource) => resource.name),
      outcomes: [...stored, ...orphanOutcomes],
    };
    this.options.logger.info({ deployment: this.options.deployment, leases: report.leases, orphans: report.orphans, foreign: report.foreign, unreachable: report.unreachable,
      retrying: report.outcomes.filter((outcome) => outcome === 'retrying').length }, 'start sweep done');
    return report;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async sweepStoredLeases(failures: number): Promise<RevocationOutcome[]> {
    let leases: LeaseRecord[];
    try {
      leases = await this.options.store.listLeases({ state: ['active', 'revoking'] });
    } catch (error) {
      this.retryLater('the store', failures + 1, error, () => this.sweepStoredLeases(failures + 1));
      return [];
    }
    const started: Promise<RevocationOutcome>[] = [];
    for (const lease of leases) {
      if (this.options.inUse(lease.grantId, lease.username)) continue; // issued by this process since it started
      this.options.logger.info({ grant: lease.grantId, resource: lease.resource, username: lease.username, state: lease.state },
        'start sweep: revoking a lease left by the previous run');
      started.push(this.options.revoker.revoke({
        ref: leaseRefOf(lease), failures: lease.attempts, lastError: lease.lastError, secrets: this.options.secretsOf(lease.resource),
      }));
    }
    return Promise.all(started);
  }

  private async sweepResource(resource: ResourceConfig, failures: number): Promise<ResourceSweep> {
    const broker = this.options.brokers(resource.broker);
    if (broker === undefined) {
      this.options.logger.warn({ resource: resource.name, broker: resource.broker }, 'start sweep: no such broker; resource skipped');
      return { listed: false, outcomes: [], foreign: 0 };
    }
    try {
      const users = await broker.listManagedUsers(resource);
      const started: Promise<RevocationOutcome>[] = [];
      let foreign = 0;
      for (const username of users) {
        const verdict = await this.judge(resource, broker.kind, username);
        if (verdict === 'foreign') foreign += 1;
        else if (verdict !== 'kept') started.push(verdict.revocation);
      }
      if (started.length > 0) {
        this.emit({
          type: 'alert', severity: 'warning',
          message: `start sweep: ${started.length} jitgate user(s) on resource "${resource.name}" had no lease record `
            + '(left by a crash while issuing); revoking them',
        });
      }
      return { listed: true, outcomes: await Promise.all(started), foreign };
    } catch (error) {
      this.retryLater(`resource "${resource.name}"`, failures + 1, error, () => this.sweepResource(resource, failures + 1), resource.name);
      return { listed: false, outcomes: [], foreign: 0 };
    }
  }

  /** Revocation boxed, so awaiting the verdict does not also wait for the revocation. */
  private async judge(resource: ResourceConfig, broker: BrokerKind, username: string): Promise<UserVerdict> {
    const parsed = parseManagedUsername(username);
    if (parsed === undefined) {
      // The broker would refuse it too: only names it could have made are ever revoked.
      this.options.logger.warn({ resource: resource.name, username }, 'start sweep: user has the jitgate prefix but no grant suffix; left alone');
      return 'kept';
    }
    if (parsed.mark !== this.mark) {
      // Another deployment's user on a shared server, or one named before marks that this store has no live record of
      // (a record would have been revoked above). Never this sweep's to take: an outage for the other deployment.
      if (parsed.mark === undefined) {
        this.options.logger.info({ resource: resource.name, username }, 'start sweep: jitgate user named before deployment marks, not in this store; left alone');
      } else {
        this.options.logger.debug({ resource: resource.name, username, mark: parsed.mark }, 'start sweep: another deployment\'s user; left alone');
      }
      return 'foreign';
    }
    const { grantId } = parsed;
    const [grant, records] = await Promise.all([this.options.store.getGrant(grantId), this.options.store.listLeases({ grantId })]);
    // A row that is not `revoked` accounts for the user: in use (here or by another instance) or already being revoked.
    if (records.some((lease) => lease.resource === resource.name && lease.username === username && lease.state !== 'revoked')) return 'kept';
    // Checked after the reads, with no await until revoke() registers the revocation, so a concurrent acquire either
    // shows up here or waits for this revocation before it creates the same name.
    if (this.options.inUse(grantId, username) || this.options.revoker.isPendingUser(resource.name, username)) return 'kept';
    this.options.logger.warn({ resource: resource.name, username, grant: grantId, grantState: grant?.state ?? 'missing' },
      'start sweep: revoking a jitgate user of this deployment with no lease record');
    const ref: LeaseRef = {
      leaseId: `${broker}/${resource.name}/${username}`, broker, grantId, resource: resource.name,
      role: grant?.role ?? parsed.role, username, expiresAt: this.options.now(),
    };
    return { revocation: this.options.revoker.revoke({ ref, record: true, secrets: this.options.secretsOf(resource.name) }) };
  }

  /** Logs, alerts past the threshold, and runs `again` after the backoff delay (until close()). */
  private retryLater(what: string, failures: number, error: unknown, again: () => Promise<unknown>, resource?: string): void {
    const text = describeRevocationError(error, resource === undefined ? [] : this.options.secretsOf(resource));
    const delayMs = retryDelayMs(this.options.policy, failures, this.options.random());
    this.options.logger.warn({ target: what, attempt: failures, error: text, delayMs }, 'start sweep step failed; retrying');
    if (shouldAlert(this.options.policy, failures)) {
      this.emit({
        type: 'alert', severity: 'critical',
        message: `start sweep cannot read ${what} (${failures} attempts, last: ${text}); what a crash left there stays until it can`,
      });
    }
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) void again();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private emit(event: AuditEventInput): void {
    this.options.audit.emit(event).catch((error: unknown) => {
      this.options.logger.error({ err: error, type: event.type }, 'cannot record sweep event');
    });
  }
}
