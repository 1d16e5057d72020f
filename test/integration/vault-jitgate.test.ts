// End to end through jitgate with `broker: vault` against the Vault double (issue 7, acceptance 1 and 2): a grant, a
// real client through jitgate's Postgres and MySQL ports, revocation verified on the database; then the failure
// cases — Vault unreachable at issue, down at revoke, sealed, unknown or disallowed role, the broker token expiring
// mid-grant, and a lease capped by max_ttl ending its grant early with an audited reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGrantId } from '../../src/access/ids.js';
import { errorCode } from '../support/broker-targets.js';
import { startVaultWorld, type VaultWorld } from '../support/vault-double/broker-world.js';
import { startVaultJitgate, type VaultJitgate } from '../support/vault-double/jitgate-vault.js';
import { eventually } from '../support/vault-double/targets.js';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  throw new Error('expected a rejection');
}

const grantIdOf = (id: string): Parameters<VaultJitgate['handle']['store']['getGrant']>[0] => {
  if (!isGrantId(id)) throw new Error(`not a grant id: ${id}`);
  return id;
};

describe('jitgate with the vault broker on PostgreSQL (Vault double)', () => {
  let world: VaultWorld;
  let jitgate: VaultJitgate;
  beforeAll(async () => {
    world = await startVaultWorld('postgres');
    jitgate = await startVaultJitgate(world);
  });
  afterAll(async () => {
    await jitgate?.close();
    await world?.close();
  });
  const leasesOf = (grantId: string) => jitgate.handle.store.listLeases({ grantId: grantIdOf(grantId) });
  const healthz = async (): Promise<Record<string, unknown>> => (await fetch(`${jitgate.handle.apiUrl}/healthz`)).json() as Promise<Record<string, unknown>>;

  it('a grant logs in through the Postgres port as a Vault user; revoking the grant revokes the lease, verified on the database', async () => {
    const grant = await jitgate.grant('readonly');
    const session = await jitgate.connect(grant);
    expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
    expect(errorCode(await rejection(session.query("insert into items values (9, 'nine')")))).toBe('42501');
    const [lease] = await leasesOf(grant.id);
    expect(lease).toMatchObject({ broker: 'vault', state: 'active', role: 'readonly' });
    expect(lease?.leaseId).toMatch(/^database\/creds\/readonly\/[A-Za-z0-9]{24}$/);
    expect(lease?.username).toMatch(/^v-approle-readonly-/);
    expect(await world.db.userRows(lease?.username ?? '')).toBe(1);

    expect(await jitgate.revoke(grant.id)).toBe(200);
    expect(await eventually(async () => (await leasesOf(grant.id))[0]?.state === 'revoked', 5_000)).toBe(true);
    expect(await world.db.userRows(lease?.username ?? '')).toBe(0);
    expect(session.errors.map((error) => error.message)).toContainEqual(expect.stringContaining(`grant ${grant.id} revoked`));
    const looked = await world.vault.root('PUT', 'sys/leases/lookup', { lease_id: lease?.leaseId });
    expect(looked.status).toBe(400);
    await session.end();
  });

  it('Vault unreachable at issue: the client gets a clear FATAL and no lease is recorded', async () => {
    const grant = await jitgate.grant('readonly');
    await world.target.double?.pause();
    try {
      const error = await rejection(jitgate.connect(grant));
      expect(errorCode(error)).toBe('08006');
      expect(error.message).toMatch(/^cannot obtain database credentials: vault broker: .*Vault at http:\/\/127\.0\.0\.1:\d+ is unreachable .*\(ECONNREFUSED\)$/);
      expect(await leasesOf(grant.id)).toEqual([]);
      // The audit trail has the same reason, and never the broker's AppRole secret.
      const ended = (await jitgate.events('session.ended')).filter((event) => event.grant === grant.id);
      expect(String(ended[0]?.reason)).toMatch(/^upstream_closed: cannot obtain database credentials: .*unreachable/);
      const trail = JSON.stringify(await jitgate.handle.store.readAuditEvents(0, 10_000));
      expect(trail).not.toContain(world.vault.approles.broker.secretId);
    } finally {
      await world.target.double?.resume();
    }
    const session = await jitgate.connect(grant); // Vault is back: the same grant works
    await session.end();
    await jitgate.revoke(grant.id);
  });

  it('sealed Vault: a clear FATAL naming the seal, /healthz 503 with vault: sealed', async () => {
    const grant = await jitgate.grant('readonly');
    world.target.double?.seal();
    try {
      const error = await rejection(jitgate.connect(grant));
      expect(error.message).toContain(`Vault at ${world.target.address} is sealed (503)`);
      // Health comes from background probes (a round at most ~1 s old when /healthz asks): the seal shows within a round.
      expect(await eventually(async () => (await healthz()).vault === 'sealed', 5_000)).toBe(true);
      const health = await fetch(`${jitgate.handle.apiUrl}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'degraded', vault: 'sealed' });
    } finally {
      world.target.double?.unseal();
    }
    expect(await eventually(async () => (await healthz()).vault === 'ok', 5_000)).toBe(true);
    const health = await fetch(`${jitgate.handle.apiUrl}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, expect.objectContaining({ vault: 'ok' })]);
    await jitgate.revoke(grant.id);
  });

  it('unknown Vault role and a role outside allowed_roles are refused with what is wrong', async () => {
    const unknown = await rejection(jitgate.connect(await jitgate.grant('nope')));
    expect(unknown.message).toContain('Vault has no database role "nope" under mount "database" (400 unknown role: nope)');
    const outsider = await rejection(jitgate.connect(await jitgate.grant('outsider')));
    expect(outsider.message).toContain('Vault role "outsider" is not in allowed_roles');
  });

  it('Vault down at revoke time: the lease stays revoking and is retried until Vault returns', async () => {
    const grant = await jitgate.grant('readonly');
    const session = await jitgate.connect(grant);
    await session.end();
    const [lease] = await leasesOf(grant.id);
    await world.target.double?.pause();
    let resumed = false;
    try {
      expect(await jitgate.revoke(grant.id)).toBe(200);
      expect(await eventually(async () => (await leasesOf(grant.id))[0]?.state === 'revoking' && ((await leasesOf(grant.id))[0]?.attempts ?? 0) >= 1, 5_000)).toBe(true);
      expect((await leasesOf(grant.id))[0]?.lastError).toContain('unreachable');
      expect(await world.db.userRows(lease?.username ?? '')).toBe(1); // nothing lost: the user is still there to revoke
      await world.target.double?.resume();
      resumed = true;
      expect(await eventually(async () => (await leasesOf(grant.id))[0]?.state === 'revoked', 8_000)).toBe(true);
      expect(await world.db.userRows(lease?.username ?? '')).toBe(0);
      expect((await jitgate.events('credential.revoke_failed')).some((event) => event.grant === grant.id)).toBe(true);
    } finally {
      if (!resumed) await world.target.double?.resume();
    }
  });

  it('renewal capped by max_ttl: the grant ends before Vault drops its user, with the reason in the audit trail', async () => {
    const grant = await jitgate.grant('tiny', '1h'); // Vault role tiny: max_ttl 8 s
    const session = await jitgate.connect(grant);
    expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
    expect(await eventually(async () => (await jitgate.handle.store.getGrant(grantIdOf(grant.id)))?.state === 'ended', 8_000)).toBe(true);
    const [alert] = (await jitgate.events('alert')).filter((event) => event.grant === grant.id);
    expect(alert?.message).toMatch(/ended early: its database user v-approle-tiny-.* ends at .*before the grant's end .*max_ttl/);
    expect(await eventually(async () => session.errors.some((error) => error.message.includes(`grant ${grant.id} revoked`)), 3_000)).toBe(true);
    await session.end();
  });

  it('broker token expired mid-grant: a fresh AppRole login serves the next grant, and the grant whose user died ends', async () => {
    const first = await jitgate.grant('readonly');
    const firstSession = await jitgate.connect(first);
    const [lease] = await leasesOf(first.id);
    expect(world.target.double?.expireTokensOfRole('broker')).toBeGreaterThan(0);
    expect(await eventually(async () => (await world.db.userRows(lease?.username ?? '')) === 0, 3_000)).toBe(true);

    const second = await jitgate.grant('readonly');
    const secondSession = await jitgate.connect(second);
    expect(await secondSession.query('select label from items')).toEqual([{ label: 'one' }]);
    expect(await eventually(async () => (await jitgate.handle.store.getGrant(grantIdOf(first.id)))?.state === 'ended', 3_000)).toBe(true);
    const [alert] = (await jitgate.events('alert')).filter((event) => event.grant === first.id);
    expect(alert?.message).toContain('Vault revoked the lease with the broker token that minted it');
    await Promise.all([firstSession.end(), secondSession.end()]);
    await jitgate.revoke(second.id);
  });
});

describe('jitgate with the vault broker on MariaDB (Vault double)', () => {
  let world: VaultWorld;
  let jitgate: VaultJitgate;
  beforeAll(async () => {
    world = await startVaultWorld('mysql');
    jitgate = await startVaultJitgate(world);
  });
  afterAll(async () => {
    await jitgate?.close();
    await world?.close();
  });

  it('a grant logs in through the MySQL port as a Vault user; revoking it drops the user', async () => {
    const grant = await jitgate.grant('readonly');
    const session = await jitgate.connect(grant);
    expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
    expect(errorCode(await rejection(session.query("insert into items values (9, 'nine')")))).toBe('1142');
    const [lease] = await jitgate.handle.store.listLeases({ grantId: grantIdOf(grant.id) });
    expect(lease?.username).toMatch(/^v-approle-readonly-[A-Za-z0-9]{13}$/);
    expect(await jitgate.revoke(grant.id)).toBe(200);
    expect(await eventually(async () => (await jitgate.handle.store.listLeases({ grantId: grantIdOf(grant.id) }))[0]?.state === 'revoked', 5_000)).toBe(true);
    expect(await world.db.userRows(lease?.username ?? '')).toBe(0);
    expect(await world.db.sessionsOf(lease?.username ?? '')).toBe(0);
    await session.end();
  });
});
