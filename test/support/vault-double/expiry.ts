// The expiry engine (VAULT.md §3, vault/expiration.go): one timer per lease at its expire time; on fire the plugin
// revokes; a failure is retried after (2^attempt) × base ± 50 % (Vault: base 10 s → ≈20, 40, 80, 160, 320 s); after
// `maxAttempts` failed attempts the lease is irrevocable — kept, no longer renewable, retried once per
// `irrevocableRetryMs` (Vault: a day). The base and the daily retry are configurable so tests take milliseconds.
import type { DoubleClock } from './clock.js';

export interface ExpirySchedule {
  /** Vault: 10 000 ms. */
  readonly retryBaseMs: number;
  /** Vault: 6. */
  readonly maxAttempts: number;
  /** Vault: 24 h. */
  readonly irrevocableRetryMs: number;
}

export const VAULT_SCHEDULE: ExpirySchedule = { retryBaseMs: 10_000, maxAttempts: 6, irrevocableRetryMs: 24 * 3_600_000 };

export interface ExpiringLease {
  readonly id: string;
  expireTime: number;
  renewable: boolean;
  attempts: number;
  irrevocable: boolean;
  lastError: string | undefined;
  timer: number | undefined;
  revoking: Promise<void> | undefined;
}

export interface ExpiryOptions<L extends ExpiringLease> {
  readonly clock: DoubleClock;
  readonly schedule: ExpirySchedule;
  /** Runs the plugin's revocation; throws with the plugin's message. */
  readonly revoke: (lease: L) => Promise<void>;
  /** The lease is gone from the database: drop its record. */
  readonly revoked: (lease: L) => void;
  /** Whether the record still exists (a revoke-force may have removed it meanwhile). */
  readonly alive: (lease: L) => boolean;
  readonly random?: () => number;
}

export class ExpiryEngine<L extends ExpiringLease> {
  constructor(private readonly options: ExpiryOptions<L>) {}

  /** (Re)arms the lease's timer at its expire time. */
  arm(lease: L, at: number = lease.expireTime): void {
    const { clock } = this.options;
    clock.cancel(lease.timer);
    lease.timer = clock.at(at, () => {
      lease.timer = undefined;
      void this.#expire(lease);
    });
  }

  /** Marks the lease to expire now and lets the engine revoke it in the background (async revoke, token cascade). */
  expireNow(lease: L): void {
    lease.expireTime = Math.min(lease.expireTime, this.options.clock.now());
    this.arm(lease, this.options.clock.now());
  }

  disarm(lease: L): void {
    this.options.clock.cancel(lease.timer);
    lease.timer = undefined;
  }

  /** A revocation now (sync revoke); shares one already under way. Rejects with the plugin error; the timer stays. */
  revokeNow(lease: L): Promise<void> {
    lease.revoking ??= this.options.revoke(lease).then(() => {
      this.disarm(lease);
      this.options.revoked(lease);
    }).finally(() => {
      lease.revoking = undefined;
    });
    return lease.revoking;
  }

  async #expire(lease: L): Promise<void> {
    if (!this.options.alive(lease)) return;
    try {
      await this.revokeNow(lease);
    } catch (error) {
      if (!this.options.alive(lease)) return;
      lease.attempts += 1;
      lease.lastError = error instanceof Error ? error.message : String(error);
      const { schedule, clock } = this.options;
      if (lease.attempts >= schedule.maxAttempts) {
        lease.irrevocable = true;
        lease.renewable = false;
        this.arm(lease, clock.now() + schedule.irrevocableRetryMs);
        return;
      }
      const jitter = 0.5 + (this.options.random ?? Math.random)();
      this.arm(lease, clock.now() + Math.round(2 ** lease.attempts * schedule.retryBaseMs * jitter));
    }
  }
}
