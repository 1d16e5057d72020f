// The single place grants end. Expiry (a timer on the soonest expiresAt) and revocation both come through here,
// and so does every listener that must act when a grant ends (session teardown, lease revocation).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/events.js';
import type { Store } from '../store/store.js';
import type { Grant, GrantEndReason } from './grant.js';
import { OPEN_GRANT_STATES } from './grant.js';

/** Re-check the store at least this often, so grants changed by another instance are not missed for long. */
const MAX_SLEEP_MS = 30_000;

export type GrantEndedListener = (grant: Grant, reason: GrantEndReason) => void | Promise<void>;

export interface GrantLifecycleOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export class GrantLifecycle {
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private rerun = false;
  private stopped = true;
  private readonly now: () => Date;

  constructor(private readonly options: GrantLifecycleOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Listeners run after the grant is ended in the store; their failures are logged, never lost silently. */
  onEnded(listener: GrantEndedListener): void {
    this.events.on('ended', (grant: Grant, reason: GrantEndReason) => {
      Promise.resolve()
        .then(() => listener(grant, reason))
        .catch((error: unknown) => this.options.logger.error({ err: error, grant: grant.id }, 'grant-ended listener failed'));
    });
  }

  start(): void {
    this.stopped = false;
    this.reschedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Call after any change to a grant's expiresAt (request, approval, extension) so the timer tracks the soonest end. */
  reschedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    void this.run();
  }

  /** Ends an open grant now (revoke or cancel) on behalf of `actor`. Returns undefined when it was already closed. */
  async end(grant: Grant, reason: 'revoked' | 'cancelled', actor: string): Promise<Grant | undefined> {
    if (!OPEN_GRANT_STATES.includes(grant.state)) return undefined;
    const now = this.now();
    const ended = await this.options.store.updateGrant(grant.id, grant.version, { state: 'ended', endReason: reason, endedAt: now });
    if (!ended) return undefined;
    await this.options.audit.emit({ type: 'grant.revoked', grant: grant.id, actor, endReason: reason });
    this.events.emit('ended', ended, reason);
    this.reschedule();
    return ended;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        this.rerun = false;
        await this.endDueGrants();
        await this.armTimer();
      } while (this.rerun && !this.stopped);
    } catch (error) {
      this.options.logger.error({ err: error }, 'grant expiry check failed; retrying in 1s');
      this.setTimer(1_000);
    } finally {
      this.running = false;
    }
  }

  private async endDueGrants(): Promise<void> {
    const ended = await this.options.store.endDueGrants(this.now());
    for (const grant of ended) {
      await this.options.audit.emit({
        type: 'grant.expired', grant: grant.id, expiresAt: grant.expiresAt.toISOString(),
        previousState: grant.previousState,
      });
      this.events.emit('ended', grant, 'expired');
    }
  }

  private async armTimer(): Promise<void> {
    if (this.stopped) return;
    const next = await this.options.store.nextGrantExpiry();
    const delay = next === undefined ? MAX_SLEEP_MS : Math.max(0, next.getTime() - this.now().getTime());
    this.setTimer(Math.min(delay, MAX_SLEEP_MS));
  }

  private setTimer(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reschedule();
    }, delayMs);
    this.timer.unref();
  }
}
