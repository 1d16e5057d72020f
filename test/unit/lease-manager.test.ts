// The lease manager against a Broker double and a real (in-memory SQLite) store: one issue per grant under
// concurrency, refusals, verified revocation with retries and alerts, restarts, the start sweep, on_disconnect.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/access/grant.js';
import { newGrantId } from '../../src/access/ids.js';
import { parseConfigText } from '../../src/config/load.js';
import { deploymentMark } from '../../src/credentials/deployment.js';
import { LeaseError } from '../../src/credentials/errors.js';
import { LeaseManager, type LeaseManagerOptions } from '../../src/credentials/lease-manager.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { FakeBroker } from '../support/fake-broker.js';
import { RecordingAuditLog } from '../support/recording-audit.js';
import { makeGrant, makeLease } from '../support/store-fixtures.js';

const ADMIN_PASSWORD = 'admin-secret-pw-1234';
const config = parseConfigText(`
resources:
  - name: orders-pg
    protocol: postgres
    host: 127.0.0.1
    port: 5432
    database: orders
    admin: { user: postgres, password: "${ADMIN_PASSWORD}" }
    roles: { readonly: { max_ttl: 8h, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] } }
  - name: lazy-pg
    protocol: postgres
    host: 127.0.0.1
    port: 5432
    database: orders
    admin: { user: postgres }
    teardown: { mode: on_disconnect, grace: 1s }
    roles: { readonly: { max_ttl: 8h, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] } }
`, { env: {} });

const FAST_RETRY = { initialDelayMs: 20, maxDelayMs: 40 };
const DEPLOYMENT = '4q7zkabcdefghijklmno';
const MARK = deploymentMark(DEPLOYMENT);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

let store: Store;
let broker: FakeBroker;
let audit: RecordingAuditLog;
const managers: LeaseManager[] = [];

function manager(overrides: Partial<LeaseManagerOptions> = {}): LeaseManager {
  const made = new LeaseManager({
    store, audit, logger: createLogger('silent'), brokers: () => broker, resources: config.resources, retry: FAST_RETRY, deployment: DEPLOYMENT,
    ...overrides,
  });
  managers.push(made);
  return made;
}

async function openGrant(overrides: Partial<Grant> = {}): Promise<Grant> {
  const grant = makeGrant({ state: 'approved', approvalsRequired: 0, expiresAt: new Date(Date.now() + 3_600_000), ...overrides });
  await store.insertGrant(grant);
  return grant;
}

beforeEach(async () => {
  store = await openStore('sqlite::memory:');
  broker = new FakeBroker(MARK);
  audit = new RecordingAuditLog();
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((made) => made.close()));
  await store.close();
});

describe('acquire', () => {
  it('issues once for concurrent first uses, records it, then hands out the same lease', async () => {
    const leases = manager({ leaseMarginMs: 90_000 });
    const grant = await openGrant();
    broker.issueDelayMs = 30;
    const all = await Promise.all(Array.from({ length: 5 }, () => leases.acquire(grant)));
    expect(broker.calls.issue).toBe(1);
    expect(new Set(all).size).toBe(1);
    const lease = all[0];
    expect(lease?.expiresAt).toEqual(new Date(grant.expiresAt.getTime() + 90_000));
    expect(await leases.acquire(grant)).toBe(lease);
    expect(broker.calls.issue).toBe(1);

    const stored = await store.getLeaseByGrant(grant.id);
    expect(stored).toMatchObject({ leaseId: lease?.leaseId, username: lease?.username, state: 'active', attempts: 0, expiresAt: lease?.expiresAt });
    expect(audit.ofType('credential.issued')).toEqual([expect.objectContaining({
      grant: grant.id, username: lease?.username, leaseId: lease?.leaseId, role: 'readonly', broker: 'builtin',
    })]);
    expect(JSON.stringify(audit.events)).not.toContain(broker.passwords[0]);
  });

  it('refuses grants that are not approved/active or have passed their end, judged by the store', async () => {
    const leases = manager();
    for (const state of ['pending', 'denied', 'ended'] as const) {
      const grant = await openGrant({ state });
      await expect(leases.acquire(grant)).rejects.toMatchObject({ name: 'LeaseError', code: 'grant_not_usable' });
    }
    const expired = await openGrant({ expiresAt: new Date(Date.now() - 1) });
    await expect(leases.acquire(expired)).rejects.toThrow(/has expired/);
    // The caller's copy says approved, the store says ended: the store wins.
    const stale = await openGrant();
    await store.updateGrant(stale.id, stale.version, { state: 'ended', endReason: 'revoked', endedAt: new Date() });
    await expect(leases.acquire(stale)).rejects.toBeInstanceOf(LeaseError);
    expect(broker.calls.issue).toBe(0);
  });

  it('revokes a just-issued user that cannot be recorded, and says so', async () => {
    const grant = await openGrant();
    const failing: Store = Object.create(store) as Store;
    let failures = 1;
    failing.insertLease = async (lease) => {
      if (failures-- > 0) throw new Error('disk full');
      return store.insertLease(lease);
    };
    const leases = manager({ store: failing });
    await expect(leases.acquire(grant)).rejects.toMatchObject({ code: 'not_recorded' });
    await eventually(() => audit.ofType('credential.revoked').length === 1);
    expect(broker.users.size).toBe(0);
    expect((await store.listLeases({ grantId: grant.id }))[0]).toMatchObject({ state: 'revoked' });
    expect(audit.ofType('credential.issued')).toEqual([]);
  });

  it('after a restart, revokes the stored lease (its password is gone) and issues a fresh one', async () => {
    const grant = await openGrant();
    const before = await manager().acquire(grant);
    await managers[0]?.close(); // the process ends without revoking: the user stays, the password is lost
    const after = await manager().acquire(grant);
    expect(after.username).toBe(before.username);
    expect(after.password.reveal()).not.toBe(before.password.reveal());
    expect(broker.calls.revoke).toBe(1);
    expect(await store.listLeases({ grantId: grant.id })).toEqual([expect.objectContaining({ state: 'active', attempts: 0 })]);
  });
});

describe('reissue (the database refused the lease user at login)', () => {
  it('replaces the lease once for concurrent logins, alerts once, and revokes the old user first', async () => {
    const leases = manager();
    const grant = await openGrant();
    const first = await leases.acquire(grant);
    broker.users.delete(`orders-pg/${first.username}`); // DROP ROLE by hand, behind jitgate's back
    broker.issueDelayMs = 30;
    const replaced = await Promise.all([leases.reissue(grant, first), leases.reissue(grant, first), leases.reissue(grant, first)]);
    expect(new Set(replaced).size).toBe(1);
    const second = replaced[0];
    expect(second?.password).not.toBe(first.password);
    expect(second?.username).toBe(first.username); // the name derives from the grant
    expect(broker.calls.issue).toBe(2);
    expect(broker.hasUser('orders-pg', first.username)).toBe(true);
    expect(await leases.acquire(grant)).toBe(second);
    const alerts = audit.ofType('alert');
    expect(alerts).toEqual([expect.objectContaining({ severity: 'warning', grant: grant.id,
      message: expect.stringMatching(new RegExp(`resource "orders-pg" refused user "${first.username}" of grant ${grant.id}`)) })]);
    expect(JSON.stringify(audit.events)).not.toContain(first.password.reveal());
    expect(audit.ofType('credential.revoked')).toEqual([expect.objectContaining({ username: first.username, verified: true })]);
    expect(await store.listLeases({ grantId: grant.id })).toEqual([expect.objectContaining({ state: 'active' })]);
  });

  it('hands a login whose lease was already replaced the replacement, without issuing again', async () => {
    const leases = manager();
    const grant = await openGrant();
    const first = await leases.acquire(grant);
    const second = await leases.reissue(grant, first);
    expect(await leases.reissue(grant, first)).toBe(second);
    expect(broker.calls.issue).toBe(2);
    const third = await leases.reissue(grant, second); // dropped again later: replaced again, once
    expect(third.password).not.toBe(second.password);
    expect(broker.calls.issue).toBe(3);
    expect(audit.ofType('alert')).toHaveLength(2);
  });

  it('refuses an ended grant, as acquire does', async () => {
    const leases = manager();
    const grant = await openGrant();
    const first = await leases.acquire(grant);
    await expect(leases.reissue({ ...grant, state: 'ended', endReason: 'revoked' }, first)).rejects.toBeInstanceOf(LeaseError);
    expect(broker.calls.issue).toBe(1);
  });
});

describe('revocation', () => {
  it('revokes at grant end, verifies, records; a second call finds nothing to do', async () => {
    const leases = manager();
    const grant = await openGrant();
    const lease = await leases.acquire(grant);
    broker.openSession(lease);
    expect(await leases.revokeForGrant(grant)).toEqual(['revoked']);
    expect(broker.users.size).toBe(0);
    expect(await store.listLeases({ grantId: grant.id })).toEqual([expect.objectContaining({ state: 'revoked', attempts: 0 })]);
    expect(audit.ofType('credential.revoked')).toEqual([expect.objectContaining({ grant: grant.id, username: lease.username, verified: true })]);
    expect(await leases.revokeForGrant(grant)).toEqual([]);
    expect(leases.pendingRevocations).toBe(0);
  });

  it('retries a failing revocation with backoff, alerts after 3 failures, and succeeds when the server returns', async () => {
    const leases = manager();
    const grant = await openGrant();
    const lease = await leases.acquire(grant);
    broker.down = true;
    expect(await leases.revokeForGrant(grant)).toEqual(['retrying']);
    await eventually(() => audit.ofType('credential.revoke_failed').length >= 4);
    const failed = audit.ofType('credential.revoke_failed');
    expect(failed.slice(0, 4).map((event) => event.attempt)).toEqual([1, 2, 3, 4]);
    expect(failed[0]?.error).toMatch(/ECONNREFUSED/);
    expect(Date.parse(failed[0]?.nextAttemptAt ?? '')).toBeGreaterThan(Date.parse(failed[0]?.ts ?? ''));
    expect(audit.ofType('alert')).toEqual([expect.objectContaining({ severity: 'critical', grant: grant.id })]);
    const stored = (await store.listLeases({ grantId: grant.id }))[0];
    expect(stored).toMatchObject({ state: 'revoking', lastError: expect.stringMatching(/ECONNREFUSED/) });
    expect(stored?.attempts).toBeGreaterThanOrEqual(4);
    expect(broker.hasUser('orders-pg', lease.username)).toBe(true);

    broker.down = false;
    await eventually(() => audit.ofType('credential.revoked').length === 1);
    expect(broker.users.size).toBe(0);
    expect(await store.listLeases({ grantId: grant.id })).toEqual([expect.objectContaining({ state: 'revoked' })]);
    expect(leases.pendingRevocations).toBe(0);
    const trail = JSON.stringify([audit.events, await store.listLeases()]);
    for (const secret of [...broker.passwords, ADMIN_PASSWORD]) expect(trail).not.toContain(secret);
  });

  it('trusts the database, not revoke(): a user still there is a failure, a user gone is a success', async () => {
    const leases = manager();
    const first = await openGrant();
    await leases.acquire(first);
    broker.revokeLeavesUser = true;
    expect(await leases.revokeForGrant(first)).toEqual(['retrying']);
    expect(audit.ofType('credential.revoke_failed')[0]?.error).toMatch(/still present/);
    broker.revokeLeavesUser = false;
    broker.revokeThrowsAfterDrop = true;
    await eventually(() => audit.ofType('credential.revoked').length === 1);

    const second = await openGrant();
    await leases.acquire(second);
    expect(await leases.revokeForGrant(second)).toEqual(['revoked']);
  });

  it('close() stops retrying; the lease stays revoking in the store for the next start', async () => {
    const leases = manager();
    const grant = await openGrant();
    await leases.acquire(grant);
    broker.down = true;
    await leases.revokeForGrant(grant);
    await leases.close();
    const calls = broker.calls.revoke;
    await sleep(150);
    expect(broker.calls.revoke).toBe(calls);
    expect((await store.listLeases({ grantId: grant.id }))[0]?.state).toBe('revoking');
    await expect(leases.acquire(grant)).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('teardown on_disconnect', () => {
  it('revokes after the grace once the last session closed, unless a session comes back first', async () => {
    const leases = manager();
    const grant = await openGrant({ resource: 'lazy-pg' });
    const lease = await leases.acquire(grant);
    leases.release(grant, 1);
    leases.release(grant, 0);
    await sleep(300);
    expect(await leases.acquire(grant)).toBe(lease); // back within the grace: kept
    await sleep(1_100);
    expect(broker.hasUser('lazy-pg', lease.username)).toBe(true);

    leases.release(grant, 0);
    await eventually(() => !broker.hasUser('lazy-pg', lease.username), 2_500);
    const fresh = await leases.acquire(grant); // the grant is still open: a new user
    expect(fresh.password.reveal()).not.toBe(lease.password.reveal());
    expect(broker.calls.issue).toBe(2);

    const onExpiry = await openGrant();
    const kept = await leases.acquire(onExpiry);
    leases.release(onExpiry, 0);
    await sleep(1_100);
    expect(broker.hasUser('orders-pg', kept.username)).toBe(true);
  });
});

describe('start sweep', () => {
  it('revokes stored leases and unrecorded users of this deployment, keeps users in use, leaves foreign names alone', async () => {
    const ended = await openGrant({ state: 'ended', endReason: 'expired', endedAt: new Date() });
    const open = await openGrant();
    const live = await openGrant();
    // Stored leases with names from before deployment marks (jg_readonly_<suffix>): this store's own, so revoked.
    const endedLease = makeLease(ended.id);
    const openLease = makeLease(open.id, { state: 'revoking', attempts: 7, lastError: 'earlier' });
    for (const lease of [endedLease, openLease]) {
      await store.insertLease(lease);
      broker.addUser('orders-pg', lease.username);
    }
    const orphan = `jg_${MARK}_readonly_${newGrantId().slice(2)}`; // ours, grant unknown to this store
    broker.addUser('orders-pg', orphan);
    broker.addUser('lazy-pg', 'jg_dba_tools');
    const leases = manager();
    const inUse = await leases.acquire(live);

    const report = await leases.sweep();
    expect(report).toMatchObject({ leases: 2, orphans: 1, foreign: 0, unreachable: [] });
    expect(report.outcomes).toEqual(['revoked', 'revoked', 'revoked']);
    expect([...broker.users.keys()].sort()).toEqual(['lazy-pg/jg_dba_tools', `orders-pg/${inUse.username}`]);
    const stored = await store.listLeases();
    expect(stored.find((lease) => lease.username === orphan)).toMatchObject({ state: 'revoked', grantId: `g_${orphan.slice(-20)}` });
    expect(stored.find((lease) => lease.leaseId === openLease.leaseId)).toMatchObject({ state: 'revoked', attempts: 7 });
    expect(audit.ofType('credential.revoked')).toHaveLength(3);
    expect(audit.ofType('alert')).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/1 jitgate user/) })]);
  });

  it('never revokes another deployment\'s users, nor unrecorded users named before marks, and does not alert about them', async () => {
    const otherDeployment = `jg_5abcd_readonly_${newGrantId().slice(2)}`; // a live user of staging, seen by production
    const otherOnMysqlShape = `jg_7zzzz_re_${newGrantId().slice(2)}`;
    const legacy = `jg_readonly_${newGrantId().slice(2)}`; // an earlier jitgate's, and no record of it here
    for (const username of [otherDeployment, otherOnMysqlShape, legacy]) broker.addUser('orders-pg', username, 1);
    const report = await manager().sweep();
    expect(report).toMatchObject({ leases: 0, orphans: 0, foreign: 3, unreachable: [] });
    expect(broker.calls.revoke).toBe(0);
    expect([...broker.users.keys()].sort()).toEqual([otherDeployment, otherOnMysqlShape, legacy].map((name) => `orders-pg/${name}`).sort());
    expect(await store.listLeases()).toEqual([]);
    expect(audit.ofType('alert')).toEqual([]);
  });

  it('lists a resource that is down again later, without holding up the first pass', async () => {
    broker.addUser('orders-pg', `jg_${MARK}_readonly_${newGrantId().slice(2)}`);
    broker.down = true;
    const leases = manager();
    const report = await leases.sweep();
    expect(report.unreachable).toEqual(['orders-pg', 'lazy-pg']);
    broker.down = false;
    await eventually(() => broker.users.size === 0);
    expect(audit.ofType('credential.revoked')).toHaveLength(1);
  });
});
