// The lease half of the Store contract, registered inside describeStoreContract so SQLite and PostgreSQL both run it.
import { expect, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import { LeaseConflictError, type Store } from '../../src/store/store.js';
import { at, makeLease } from './store-fixtures.js';

export function registerLeaseCases(open: () => Promise<Store>): void {
  it('round-trips a lease with every field and finds the active one by grant', async () => {
    const store = await open();
    const grantId = newGrantId();
    const lease = makeLease(grantId);
    await store.insertLease(lease);
    expect(await store.getLeaseByGrant(grantId)).toEqual(lease);
    expect(await store.getLeaseByGrant(newGrantId())).toBeUndefined();

    const full = makeLease(newGrantId(), {
      broker: 'vault', leaseId: 'database/creds/orders-ro/AbC123', state: 'revoking', attempts: 4,
      lastError: 'connect ECONNREFUSED 127.0.0.1:5432 — "quoted" ünïcode', nextAttemptAt: at(5_001), revokedAt: null,
    });
    await store.insertLease(full);
    expect(await store.listLeases({ grantId: full.grantId })).toEqual([full]);
    expect(await store.getLeaseByGrant(full.grantId)).toBeUndefined(); // revoking is not active
  });

  it('lists leases oldest first, filtered by state (one or several) and grant', async () => {
    const store = await open();
    const g1 = newGrantId();
    const g2 = newGrantId();
    const a = makeLease(g1, { createdAt: at(3) });
    const b = makeLease(g2, { createdAt: at(1), state: 'revoking', attempts: 1 });
    const c = makeLease(g2, { createdAt: at(2), leaseId: 'builtin/orders-mysql/x', resource: 'orders-mysql', state: 'revoked', revokedAt: at(9) });
    for (const lease of [a, b, c]) await store.insertLease(lease);
    const ids = async (filter?: Parameters<Store['listLeases']>[0]): Promise<string[]> =>
      (await store.listLeases(filter)).map((lease) => lease.leaseId);

    expect(await ids()).toEqual([b.leaseId, c.leaseId, a.leaseId]);
    expect(await ids({ state: 'active' })).toEqual([a.leaseId]);
    expect(await ids({ state: ['active', 'revoking'] })).toEqual([b.leaseId, a.leaseId]);
    expect(await ids({ state: [] })).toEqual([]);
    expect(await ids({ grantId: g2 })).toEqual([b.leaseId, c.leaseId]);
    expect(await ids({ grantId: g2, state: 'revoked' })).toEqual([c.leaseId]);
  });

  it('records revocation progress, then the verified revocation; a revoked lease stays revoked', async () => {
    const store = await open();
    const lease = makeLease(newGrantId());
    await store.insertLease(lease);

    expect(await store.markLeaseRevoking(lease.leaseId, { attempts: 0, lastError: null, nextAttemptAt: at(2_000) })).toBe(true);
    expect(await store.getLeaseByGrant(lease.grantId)).toBeUndefined();
    expect(await store.markLeaseRevoking(lease.leaseId, { attempts: 2, lastError: 'timeout', nextAttemptAt: at(4_000) })).toBe(true);
    const revoking = { ...lease, state: 'revoking', attempts: 2, lastError: 'timeout', nextAttemptAt: at(4_000) };
    expect(await store.listLeases({ grantId: lease.grantId })).toEqual([revoking]);

    expect(await store.markLeaseRevoked(lease.leaseId, at(5_000))).toBe(true);
    const revoked = { ...revoking, state: 'revoked', nextAttemptAt: null, revokedAt: at(5_000) };
    expect(await store.listLeases({ grantId: lease.grantId })).toEqual([revoked]);
    // Late or repeated writers change nothing: the first verified revocation stands.
    expect(await store.markLeaseRevoked(lease.leaseId, at(6_000))).toBe(false);
    expect(await store.markLeaseRevoking(lease.leaseId, { attempts: 3, lastError: 'x', nextAttemptAt: null })).toBe(false);
    expect(await store.updateLeaseExpiry(lease.leaseId, at(9_000))).toBe(false);
    expect(await store.listLeases({ grantId: lease.grantId })).toEqual([revoked]);
    expect(await store.markLeaseRevoking('builtin/none/jg_x', { attempts: 1, lastError: null, nextAttemptAt: null })).toBe(false);
    expect(await store.markLeaseRevoked('builtin/none/jg_x', at(1))).toBe(false);
  });

  it('moves the end of an active lease', async () => {
    const store = await open();
    const lease = makeLease(newGrantId());
    await store.insertLease(lease);
    expect(await store.updateLeaseExpiry(lease.leaseId, at(7_200_000))).toBe(true);
    expect((await store.getLeaseByGrant(lease.grantId))?.expiresAt).toEqual(at(7_200_000));
  });

  it('replaces a revoked lease of the same id (re-issued user), never an unrevoked one', async () => {
    const store = await open();
    const first = makeLease(newGrantId());
    await store.insertLease(first);
    const again = { ...first, createdAt: at(50_000), expiresAt: at(90_000) };
    await expect(store.insertLease(again)).rejects.toBeInstanceOf(LeaseConflictError);
    await store.markLeaseRevoking(first.leaseId, { attempts: 1, lastError: 'boom', nextAttemptAt: at(2) });
    await expect(store.insertLease(again)).rejects.toBeInstanceOf(LeaseConflictError);
    expect((await store.listLeases())[0]?.state).toBe('revoking');

    await store.markLeaseRevoked(first.leaseId, at(3));
    await store.insertLease(again);
    expect(await store.listLeases()).toEqual([again]);
    expect(await store.getLeaseByGrant(first.grantId)).toEqual(again);
  });

  it('keeps the deployment id first claimed, across calls, reopens and concurrent claims', async () => {
    const store = await open();
    expect(await store.claimDeploymentId('2aaaaaaaaaaaaaaaaaaa', at(1))).toBe('2aaaaaaaaaaaaaaaaaaa');
    expect(await store.claimDeploymentId('3bbbbbbbbbbbbbbbbbbb', at(2))).toBe('2aaaaaaaaaaaaaaaaaaa');
    const again = await open();
    expect(await again.claimDeploymentId('4ccccccccccccccccccc', at(3))).toBe('2aaaaaaaaaaaaaaaaaaa');
  });

  it('gives concurrent first claims on an empty store one id', async () => {
    // One instance (SQLite allows no more in a process); on PostgreSQL its pool runs the two on two connections.
    const store = await open();
    const ids = await Promise.all([store.claimDeploymentId('5ddddddddddddddddddd', at(1)), store.claimDeploymentId('6eeeeeeeeeeeeeeeeeee', at(1))]);
    expect(new Set(ids).size).toBe(1);
    expect(['5ddddddddddddddddddd', '6eeeeeeeeeeeeeeeeeee']).toContain(ids[0]);
  });
}
