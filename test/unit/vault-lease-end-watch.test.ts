// LeaseEndWatch: a grant whose database user ends before the grant is ended `leadMs` before the user's end, with a
// reason naming both ends and the broker's cause; a broker's notice ends it at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newGrantId, type GrantId } from '../../src/access/ids.js';
import { Secret } from '../../src/audit/secret.js';
import type { Lease } from '../../src/credentials/broker.js';
import { LeaseEndWatch } from '../../src/credentials/lease-end-watch.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');

function lease(grantId: GrantId, endsInMs: number, capReason?: string): Lease {
  return {
    leaseId: `database/creds/readonly/${'a'.repeat(24)}`, broker: 'vault', grantId, resource: 'orders-pg', role: 'readonly',
    username: 'v-approle-readonly-x', password: new Secret('pw'), expiresAt: new Date(T0 + endsInMs),
    ...(capReason === undefined ? {} : { capReason }),
  };
}

describe('LeaseEndWatch', () => {
  let ended: { grantId: GrantId; reason: string }[];
  let watch: LeaseEndWatch;
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    ended = [];
    watch = new LeaseEndWatch({ leadMs: 5_000, now: () => new Date(), endGrant: (grantId, reason) => ended.push({ grantId, reason }) });
  });
  afterEach(() => {
    watch.close();
    vi.useRealTimers();
  });

  it('ends the grant leadMs before a capped user ends, saying why', () => {
    const grantId = newGrantId();
    watch.watch(new Date(T0 + 3_600_000), lease(grantId, 120_000, 'Vault capped the lease at role "readonly"\'s max_ttl'));
    vi.advanceTimersByTime(114_999);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ended).toEqual([{ grantId, reason: 'its database user v-approle-readonly-x ends at 2026-03-01T12:02:00.000Z, before the grant\'s end at '
      + '2026-03-01T13:00:00.000Z (Vault capped the lease at role "readonly"\'s max_ttl)' }]);
  });

  it('leaves a grant alone when its user outlives it, and forgets a revoked one', () => {
    const outliving = newGrantId();
    watch.watch(new Date(T0 + 60_000), lease(outliving, 120_000));
    const revoked = newGrantId();
    watch.watch(new Date(T0 + 3_600_000), lease(revoked, 60_000));
    watch.forget(revoked);
    vi.advanceTimersByTime(3_600_000);
    expect(ended).toEqual([]);
  });

  it('a renewal that moves the end re-arms the timer; a notice for the live lease ends at once, others are ignored', () => {
    const grantId = newGrantId();
    watch.watch(new Date(T0 + 3_600_000), lease(grantId, 60_000));
    watch.watch(new Date(T0 + 3_600_000), lease(grantId, 3_600_000)); // renewed to the grant's end
    vi.advanceTimersByTime(120_000);
    expect(ended).toEqual([]);
    const live = lease(grantId, 3_600_000);
    watch.leaseEnding({ leaseId: 'database/creds/readonly/other', grantId, endsAt: new Date(T0), reason: 'x' }, live);
    expect(ended).toEqual([]);
    watch.leaseEnding({ leaseId: live.leaseId, grantId, endsAt: new Date(T0 + 120_000), reason: 'the token died' }, live);
    expect(ended).toEqual([{ grantId, reason: 'its database user v-approle-readonly-x was ended at 2026-03-01T12:02:00.000Z: the token died' }]);
  });
});
