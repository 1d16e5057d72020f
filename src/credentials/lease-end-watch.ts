// Grants whose database user ends before the grant does (issue 7): Vault capped the lease at the role's max_ttl, or
// the Vault token that minted it died and took the lease along. Rather than let the user vanish mid-query, the grant
// is ended shortly before the user's end, so its sessions close with a reason (DESIGN §4) and the audit trail says why.
import type { GrantId } from '../access/ids.js';
import type { Lease, LeaseEndingNotice } from './broker.js';

export interface LeaseEndWatchOptions {
  /** Ends the grant (main.ts: an `alert` with the reason, then the grant lifecycle's end). */
  readonly endGrant: (grantId: GrantId, reason: string) => void;
  /** How long before the user's end the grant is ended. */
  readonly leadMs: number;
  readonly now: () => Date;
}

export class LeaseEndWatch {
  readonly #timers = new Map<GrantId, { readonly leaseId: string; readonly timer: NodeJS.Timeout }>();

  constructor(private readonly options: LeaseEndWatchOptions) {}

  /** After issue or renew: when `lease` ends before `grantEnd`, schedule the grant's early end. */
  watch(grantEnd: Date, lease: Lease): void {
    this.forget(lease.grantId);
    if (lease.expiresAt.getTime() >= grantEnd.getTime()) return;
    const reason = `its database user ${lease.username} ends at ${lease.expiresAt.toISOString()}, before the grant's end at `
      + `${grantEnd.toISOString()}${lease.capReason === undefined ? '' : ` (${lease.capReason})`}`;
    const delayMs = Math.max(0, lease.expiresAt.getTime() - this.options.leadMs - this.options.now().getTime());
    const timer = setTimeout(() => {
      this.#timers.delete(lease.grantId);
      this.options.endGrant(lease.grantId, reason);
    }, delayMs);
    timer.unref();
    this.#timers.set(lease.grantId, { leaseId: lease.leaseId, timer });
  }

  /** A broker says the lease is ending now: end its grant now, if `live` is still that grant's lease. */
  leaseEnding(notice: LeaseEndingNotice, live: Lease | undefined): void {
    if (live?.leaseId !== notice.leaseId) return;
    this.forget(notice.grantId);
    this.options.endGrant(notice.grantId, `its database user ${live.username} was ended at ${notice.endsAt.toISOString()}: ${notice.reason}`);
  }

  forget(grantId: GrantId): void {
    const entry = this.#timers.get(grantId);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#timers.delete(grantId);
  }

  close(): void {
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
