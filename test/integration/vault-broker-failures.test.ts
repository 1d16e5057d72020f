// The vault broker when Vault says no (issue 7, acceptance 2), against the Vault double on PostgreSQL: each failure is
// a typed VaultBrokerError with a clear message and no secret in it; tokens that die are replaced by a new AppRole login
// and the leases they took along are reported.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import type { Lease, LeaseEndingNotice } from '../../src/credentials/broker.js';
import { VaultBroker, VaultBrokerError } from '../../src/credentials/vault/index.js';
import { recordingLogger, startVaultWorld, type VaultWorld } from '../support/vault-double/broker-world.js';
import { eventually } from '../support/vault-double/targets.js';

async function failureOf(promise: Promise<unknown>): Promise<VaultBrokerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultBrokerError) return error;
    throw error;
  }
  throw new Error('expected a VaultBrokerError');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 1;
}

describe('vault broker failures (Vault double, PostgreSQL)', () => {
  let world: VaultWorld;
  beforeAll(async () => {
    world = await startVaultWorld('postgres');
  });
  afterAll(async () => {
    await world.close();
  });
  const request = (role: string, ttlMs = 30 * 60_000): Parameters<VaultBroker['issue']>[0] =>
    ({ resource: world.resource, role, grantId: newGrantId(), expiresAt: new Date(Date.now() + ttlMs) });
  const secretsOf = (approle: 'broker' | 'nocreds' = 'broker'): string[] => [world.vault.approles[approle].secretId];

  it('unknown Vault role → unknown_role (400); role outside allowed_roles → role_not_allowed (500)', async () => {
    const { broker } = world.broker();
    const unknown = await failureOf(broker.issue(request('nope')));
    expect(unknown).toMatchObject({ code: 'unknown_role', status: 400, operation: 'issue' });
    expect(unknown.message).toBe('vault broker: issue: Vault has no database role "nope" under mount "database" (400 unknown role: nope)');
    const outsider = await failureOf(broker.issue(request('outsider')));
    expect(outsider).toMatchObject({ code: 'role_not_allowed', status: 500 });
    expect(outsider.message).toContain('Vault role "outsider" is not in allowed_roles of its database connection config');
  });

  it('a token without the creds policy → permission_denied (403) naming the path; no secret in the message', async () => {
    const { broker } = world.broker('nocreds');
    const denied = await failureOf(broker.issue(request('readonly')));
    expect(denied).toMatchObject({ code: 'permission_denied', status: 403 });
    expect(denied.message).toMatch(/Vault denied reading database credentials for role "readonly" \(403 permission denied\).*"database\/creds\/readonly"/);
    for (const secret of secretsOf('nocreds')) expect(denied.message).not.toContain(secret);
  });

  it('a sealed Vault → sealed (503) at issue, and health() says sealed', async () => {
    const { broker } = world.broker();
    world.target.double?.seal();
    try {
      const sealed = await failureOf(broker.issue(request('readonly')));
      expect(sealed).toMatchObject({ code: 'sealed', status: 503 });
      expect(sealed.message).toContain(`Vault at ${world.target.address} is sealed (503)`);
      expect(await broker.health()).toEqual({ status: 'sealed', detail: `Vault at ${world.target.address} is sealed` });
    } finally {
      world.target.double?.unseal();
    }
    expect((await broker.health()).status).toBe('ok');
  });

  it('an unreachable Vault → unreachable (ECONNREFUSED) fast, for issue and health', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    const logger = recordingLogger();
    const broker = new VaultBroker({ config: world.brokerConfig('broker', address), resources: [world.resource], logger, timeoutMs: 2_000 });
    try {
      const started = Date.now();
      const down = await failureOf(broker.issue(request('readonly')));
      expect(down).toMatchObject({ code: 'unreachable', status: undefined });
      expect(down.message).toBe(`vault broker: login: Vault at ${address} is unreachable while logging in with AppRole (ECONNREFUSED)`);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await broker.health()).status).toBe('unreachable');
      for (const secret of secretsOf()) expect(logger.text()).not.toContain(secret);
    } finally {
      await broker.close();
    }
  });

  it('a wrong secret_id → login_failed; a configured token Vault does not know → invalid_token', async () => {
    const wrong = new VaultBroker({ config: { ...world.brokerConfig(), auth: { approle: { role_id: world.vault.approles.broker.roleId, secret_id: 'not-it' } } },
      resources: [world.resource], logger: recordingLogger() });
    const badToken = new VaultBroker({ config: { ...world.brokerConfig(), auth: { token: 'hvs.unknown' } }, resources: [world.resource], logger: recordingLogger() });
    const rootToken = new VaultBroker({ config: { ...world.brokerConfig(), auth: { token: world.target.rootToken } }, resources: [world.resource], logger: recordingLogger() });
    try {
      expect(await failureOf(wrong.issue(request('readonly')))).toMatchObject({ code: 'login_failed', status: 400 });
      const invalid = await failureOf(badToken.issue(request('readonly')));
      expect(invalid).toMatchObject({ code: 'invalid_token' });
      expect(invalid.message).not.toContain('hvs.unknown');
      const lease = await rootToken.issue(request('readonly')); // token auth with a no-TTL token: leases are not bounded by it
      expect(lease.username).toMatch(/^v-root-readonly-/);
      await rootToken.revoke(lease);
    } finally {
      await Promise.all([wrong.close(), badToken.close(), rootToken.close()]);
    }
  });

  it('token expired mid-grant: the broker reports the lease it took along, logs in again, and the next issue works', async () => {
    const { broker } = world.broker();
    const notices: LeaseEndingNotice[] = [];
    broker.onLeaseEnding((notice) => notices.push(notice));
    const first = await broker.issue(request('readonly'));
    expect(world.target.double?.expireTokensOfRole('broker')).toBeGreaterThan(0);
    // Vault revoked the lease with its token (asynchronously, like the real expiry manager).
    expect(await eventually(async () => (await world.db.userRows(first.username)) === 0, 3_000)).toBe(true);

    const renewal = await failureOf(broker.renew(first, new Date(Date.now() + 60 * 60_000)));
    expect(renewal).toMatchObject({ code: 'lease_not_found' });
    expect(notices).toEqual([expect.objectContaining({ leaseId: first.leaseId, grantId: first.grantId })]);
    expect(notices[0]?.reason).toContain('broker token that minted it');

    const second = await broker.issue(request('readonly')); // a fresh AppRole login minted it
    const session = await world.db.login({ username: second.username, password: second.password.reveal() });
    await session.end();
    await broker.revoke(first); // already gone in Vault: 204, verified below
    expect(await broker.exists(first)).toEqual({ userExists: false, sessions: 0 });
    await broker.revoke(second);
  });

  it('a revoked token is noticed between renewals (lookup-self), without any lease traffic', async () => {
    const { broker } = world.broker('broker', { tokenCheckIntervalMs: 100 });
    const notices: LeaseEndingNotice[] = [];
    broker.onLeaseEnding((notice) => notices.push(notice));
    const lease = await broker.issue(request('readonly'));
    world.target.double?.expireTokensOfRole('broker');
    expect(await eventually(async () => notices.length === 1, 3_000)).toBe(true);
    expect(notices[0]?.leaseId).toBe(lease.leaseId);
    await broker.revoke(lease);
  });

  it('a broker token whose max TTL is shorter than the grant: the start warns, and leases are bounded by the token', async () => {
    const { broker, logger } = world.broker('capped'); // token_ttl 60 s, token_max_ttl 120 s
    await broker.start(3_600);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('less than the longest grant (3600s)') }));
    const lease: Lease = await broker.issue(request('readonly', 60 * 60_000));
    expect(lease.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
    expect(lease.capReason).toContain("broker's Vault token ends sooner");
    await broker.revoke(lease);
  });
});
