// Revocation as DESIGN §4 steps 5–6 ask: revoke, then verify on the database itself (user gone, no session left),
// and only then call the lease revoked. A failed attempt is recorded (store + `credential.revoke_failed`) and retried
// with backoff, without end: a lease is never forgotten. Timers live in memory only; the store's `revoking` rows are
// what the next start's sweep picks up if this process dies first.
import type { Logger } from 'pino';
import type { GrantId } from '../access/ids.js';
import type { AuditEventInput, AuditLog } from '../audit/events.js';
import { LeaseConflictError, type Store } from '../store/store.js';
import type { Broker, LeaseRef, RevocationCheck } from './broker.js';
import { describeRevocationError, retryDelayMs, shouldAlert, type RetryPolicy } from './retry-policy.js';

/** The first attempt's result: `retrying` means it failed and the next attempt is scheduled. */
export type RevocationOutcome = 'revoked' | 'retrying';

export interface RevokeRequest {
  readonly ref: LeaseRef;
  /** Values cut out of error texts: the lease password when known, the resource's admin password. */
  readonly secrets?: readonly string[];
  /** The lease has no row yet (a user the sweep found): one is written as `revoking` first, so it is never forgotten. */
  readonly record?: boolean;
  /** Failures recorded before (a `revoking` row after a restart): backoff and alerts continue from there. */
  readonly failures?: number;
  readonly lastError?: string | null;
}

export interface RevokerOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** Throws a LeaseError when the lease's broker or resource is not configured (retried: config may come back). */
  readonly brokerFor: (ref: LeaseRef) => Broker;
  readonly now: () => Date;
  readonly policy: RetryPolicy;
  readonly random: () => number;
}

interface PendingRevocation {
  readonly ref: LeaseRef;
  secrets: readonly string[];
  failures: number;
  lastError: string | null;
  needsRecord: boolean;
  marked: boolean;
  timer: NodeJS.Timeout | undefined;
  running: Promise<RevocationOutcome> | undefined;
}

export class Revoker {
  private readonly pending = new Map<string, PendingRevocation>();
  private closed = false;

  constructor(private readonly options: RevokerOptions) {}

  /**
   * Starts the revocation of `request.ref`, or hurries one already waiting for its retry timer; an attempt under way
   * is shared. Resolves with that attempt's outcome; never rejects.
   */
  revoke(request: RevokeRequest): Promise<RevocationOutcome> {
    if (this.closed) {
      // Shutting down: the store still holds the lease unrevoked, and the next start's sweep revokes it.
      this.options.logger.warn({ grant: request.ref.grantId, username: request.ref.username }, 'revocation requested after close; left to the next start');
      return Promise.resolve('retrying');
    }
    let entry = this.pending.get(request.ref.leaseId);
    if (entry === undefined) {
      entry = {
        ref: request.ref, secrets: [], failures: request.failures ?? 0, lastError: request.lastError ?? null,
        needsRecord: request.record ?? false,
        marked: false, timer: undefined, running: undefined,
      };
      this.pending.set(request.ref.leaseId, entry);
    }
    entry.secrets = [...new Set([...entry.secrets, ...(request.secrets ?? [])])];
    if (entry.running !== undefined) return entry.running;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    return this.run(entry);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Leases of `grantId` not yet verified gone. */
  pendingOf(grantId: GrantId): LeaseRef[] {
    return [...this.pending.values()].filter((entry) => entry.ref.grantId === grantId).map((entry) => entry.ref);
  }

  isPendingUser(resource: string, username: string): boolean {
    for (const { ref } of this.pending.values()) if (ref.resource === resource && ref.username === username) return true;
    return false;
  }

  /** Stops the retry timers and waits for attempts under way; what is pending stays `revoking` in the store. */
  async close(): Promise<void> {
    this.closed = true;
    const running: Promise<RevocationOutcome>[] = [];
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      if (entry.running !== undefined) running.push(entry.running);
    }
    await Promise.allSettled(running);
  }

  private run(entry: PendingRevocation): Promise<RevocationOutcome> {
    const running = this.attempt(entry).finally(() => {
      entry.running = undefined;
    });
    entry.running = running;
    return running;
  }

  private async attempt(entry: PendingRevocation): Promise<RevocationOutcome> {
    const { ref } = entry;
    if (entry.needsRecord) await this.writeRecord(entry);
    if (!entry.marked) {
      // `revoking` before the database is touched: if this process dies mid-revocation, the next start knows.
      entry.marked = await this.saveProgress(entry, this.options.now());
    }
    const failure = await this.revokeAndVerify(entry);
    if (failure === undefined) {
      this.pending.delete(ref.leaseId);
      this.emit({ type: 'credential.revoked', grant: ref.grantId, resource: ref.resource, username: ref.username, leaseId: ref.leaseId, verified: true });
      this.options.logger.info({ grant: ref.grantId, resource: ref.resource, username: ref.username, failures: entry.failures }, 'lease revoked and verified gone');
      return 'revoked';
    }

    entry.failures += 1;
    entry.lastError = failure;
    const delayMs = retryDelayMs(this.options.policy, entry.failures, this.options.random());
    const nextAttemptAt = this.closed ? null : new Date(this.options.now().getTime() + delayMs);
    await this.saveProgress(entry, nextAttemptAt);
    this.emit({
      type: 'credential.revoke_failed', grant: ref.grantId, resource: ref.resource, username: ref.username, leaseId: ref.leaseId,
      attempt: entry.failures, error: failure, ...(nextAttemptAt === null ? {} : { nextAttemptAt: nextAttemptAt.toISOString() }),
    });
    if (shouldAlert(this.options.policy, entry.failures)) {
      this.emit({
        type: 'alert', severity: 'critical', grant: ref.grantId,
        message: `revocation of ${ref.username} on resource "${ref.resource}" has failed ${entry.failures} times `
          + `(last: ${failure}); still retrying — the user exists until it succeeds`,
      });
    }
    this.options.logger.warn({ grant: ref.grantId, resource: ref.resource, username: ref.username, attempt: entry.failures, error: failure, delayMs },
      'lease revocation failed; retrying');
    if (!this.closed) {
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!this.closed) void this.run(entry);
      }, delayMs);
      entry.timer.unref();
    }
    return 'retrying';
  }

  /** undefined when the user is verified gone (and so recorded); otherwise the secret-free reason it is not. */
  private async revokeAndVerify(entry: PendingRevocation): Promise<string | undefined> {
    const { ref } = entry;
    let revokeError: unknown;
    try {
      const broker = this.options.brokerFor(ref);
      try {
        await broker.revoke(ref);
      } catch (error) {
        revokeError = error;
      }
      // The database decides, not revoke()'s outcome: a revoke that failed after dropping the user still counts.
      let check: RevocationCheck;
      try {
        check = await broker.exists(ref);
      } catch (error) {
        return describeRevocationError(revokeError ?? error, entry.secrets);
      }
      if (check.userExists || check.sessions > 0) {
        return revokeError === undefined
          ? `user still present after revocation (exists: ${check.userExists}, sessions: ${check.sessions})`
          : describeRevocationError(revokeError, entry.secrets);
      }
      if (revokeError !== undefined) {
        this.options.logger.warn({ grant: ref.grantId, username: ref.username, error: describeRevocationError(revokeError, entry.secrets) },
          'revocation reported an error, but the user is verified gone');
      }
      await this.options.store.markLeaseRevoked(ref.leaseId, this.options.now());
      return undefined;
    } catch (error) {
      return describeRevocationError(error, entry.secrets);
    }
  }

  private async writeRecord(entry: PendingRevocation): Promise<void> {
    const { ref } = entry;
    try {
      await this.options.store.insertLease({
        ...ref, state: 'revoking', attempts: entry.failures, lastError: entry.lastError, nextAttemptAt: this.options.now(),
        createdAt: this.options.now(), revokedAt: null,
      });
      entry.needsRecord = false;
      entry.marked = true;
    } catch (error) {
      // A conflict means a row exists already; anything else is retried with the next attempt.
      if (error instanceof LeaseConflictError) entry.needsRecord = false;
      else this.options.logger.error({ err: error, grant: ref.grantId, username: ref.username }, 'cannot record lease under revocation');
    }
  }

  /** Store errors are logged, never block the revocation itself: the database side matters most. */
  private async saveProgress(entry: PendingRevocation, nextAttemptAt: Date | null): Promise<boolean> {
    try {
      await this.options.store.markLeaseRevoking(entry.ref.leaseId, { attempts: entry.failures, lastError: entry.lastError, nextAttemptAt });
      return true;
    } catch (error) {
      this.options.logger.error({ err: error, grant: entry.ref.grantId, username: entry.ref.username }, 'cannot record revocation progress');
      return false;
    }
  }

  private emit(event: AuditEventInput): void {
    // Not awaited: a slow or failing sink must not hold up revocation; the audit log queues and retries on its own.
    this.options.audit.emit(event).catch((error: unknown) => {
      this.options.logger.error({ err: error, type: event.type, grant: event.grant }, 'cannot record credential event');
    });
  }
}
