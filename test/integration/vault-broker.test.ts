// The vault broker against the Vault double, on PostgreSQL and MariaDB: the broker contract (issue → log in as the
// lease user → readonly SELECTs, is refused INSERT → revoke → login refused, user gone), renew, exists with and without
// admin credentials, and the max_ttl cap. The failure cases (Vault errors, tokens) are in vault-broker-failures.test.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import type { Lease } from '../../src/credentials/broker.js';
import type { ResourceConfig } from '../../src/config/schema.js';
import type { VaultBroker } from '../../src/credentials/vault/index.js';
import { errorCode } from '../support/broker-targets.js';
import { startVaultWorld, type VaultWorld } from '../support/vault-double/broker-world.js';
import type { DbKind } from '../support/vault-double/fixtures.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const USERNAME: Record<DbKind, RegExp> = {
  postgres: /^v-approle-readonly-[A-Za-z0-9]{20}-\d{10}$/,
  mysql: /^v-approle-readonly-[A-Za-z0-9]{13}$/,
};

describe.each<DbKind>(['postgres', 'mysql'])('vault broker contract on %s (Vault double)', (kind) => {
  let world: VaultWorld;
  let broker: VaultBroker;
  beforeAll(async () => {
    world = await startVaultWorld(kind);
    broker = world.broker().broker;
  });
  afterAll(async () => {
    await world.close();
  });

  const issue = (role: string, ttlMs = 30 * 60_000, resource: ResourceConfig = world.resource): Promise<Lease> =>
    broker.issue({ resource, role, grantId: newGrantId(), expiresAt: new Date(Date.now() + ttlMs) });
  const leaseOf = (lease: Lease, resource: ResourceConfig): Lease => ({ ...lease, resource: resource.name });

  it('readonly can SELECT and is refused INSERT; revoke ends its open session and the user', async () => {
    const requested = Date.now() + 30 * 60_000;
    const lease = await issue('readonly');
    expect(lease).toMatchObject({ broker: 'vault', role: 'readonly', resource: world.resource.name });
    expect(lease.leaseId).toMatch(/^database\/creds\/readonly\/[A-Za-z0-9]{24}$/);
    expect(lease.username).toMatch(USERNAME[kind]);
    // Vault gave the role's default_ttl (1h); the broker renewed it down to the grant's end.
    expect(Math.abs(lease.expiresAt.getTime() - requested)).toBeLessThan(2_000);
    expect(lease.capReason).toBeUndefined();
    expect((await world.vault.root('PUT', 'sys/leases/lookup', { lease_id: lease.leaseId })).status).toBe(200);

    const session = await world.db.login({ username: lease.username, password: lease.password.reveal() });
    expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
    expect(errorCode(await rejection(session.query("insert into items values (2, 'two')")))).toBe(world.db.permissionDenied);
    expect(await broker.exists(lease)).toEqual({ userExists: true, sessions: 1 });

    await broker.revoke(lease); // the session is still open: Vault leaves it, the broker ends it
    await expect(session.query('select 1')).rejects.toThrow();
    await session.end();
    expect(errorCode(await rejection(world.db.login({ username: lease.username, password: lease.password.reveal() })))).toBe(world.db.loginFailed);
    expect(await world.db.userRows(lease.username)).toBe(0);
    expect(await world.db.sessionsOf(lease.username)).toBe(0);
    expect(await broker.exists(lease)).toEqual({ userExists: false, sessions: 0 });
  });

  it('readwrite can INSERT; exists() and listManagedUsers() follow the user; a second revoke succeeds quietly', async () => {
    const lease = await issue('readwrite');
    const session = await world.db.login({ username: lease.username, password: lease.password.reveal() });
    await session.query("insert into items values (3, 'three')");
    await session.end();
    expect(await world.db.admin('select label from items where id = 3')).toEqual([{ label: 'three' }]);
    expect(await broker.listManagedUsers(world.resource)).toContain(lease.username);
    expect(await broker.listManagedUsers(world.bare)).toEqual([]); // no admin credentials: nothing to list with
    await broker.revoke(lease);
    await broker.revoke(lease);
    expect(await broker.listManagedUsers(world.resource)).not.toContain(lease.username);
    expect(await world.target.double?.liveUsers()).not.toContainEqual(expect.objectContaining({ username: lease.username }));
  });

  it('renew moves the end (PostgreSQL VALID UNTIL with it); without admin credentials exists() asks Vault alone', async () => {
    const lease = await issue('readonly', 10 * 60_000, world.bare);
    const wanted = new Date(Date.now() + 45 * 60_000);
    const renewed = await broker.renew(lease, wanted);
    expect(Math.abs(renewed.getTime() - wanted.getTime())).toBeLessThan(2_000);
    if (kind === 'postgres') {
      const rows = await world.db.admin('select extract(epoch from rolvaliduntil)::float8 * 1000 as ms from pg_roles where rolname = $1', [lease.username]);
      expect(Math.abs(Number(rows[0]?.ms) - wanted.getTime() - 5_000)).toBeLessThan(3_000); // Vault adds 5 s
    }
    const bareLease = leaseOf(lease, world.bare);
    expect(await broker.exists(bareLease)).toEqual({ userExists: true, sessions: 0 });
    await broker.revoke(bareLease);
    expect(await broker.exists(bareLease)).toEqual({ userExists: false, sessions: 0 });
    expect(await world.db.userRows(lease.username)).toBe(0);
  });

  it('renewal capped by the role max_ttl: the lease ends early, capReason says why, and the cap is logged', async () => {
    const { broker: capped, logger } = world.broker();
    const lease = await capped.issue({ resource: world.resource, role: 'capped', grantId: newGrantId(), expiresAt: new Date(Date.now() + 3_600_000) });
    const left = lease.expiresAt.getTime() - Date.now();
    expect(left).toBeGreaterThan(110_000);
    expect(left).toBeLessThanOrEqual(120_000); // role capped: max_ttl 120 s
    expect(lease.capReason).toMatch(/capped the lease at role "capped"'s max_ttl/);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'vault broker: lease ends before the grant' }));
    const again = await capped.renew(lease, new Date(Date.now() + 3_600_000));
    expect(again.getTime()).toBeLessThanOrEqual(lease.expiresAt.getTime() + 1_000);
    await capped.revoke(lease);
  });
});

/** The creation/revocation statements README "Vault" tells operators to write, read from the README itself. */
function readmeStatements(role: string, field: 'creation_statements' | 'revocation_statements'): string | undefined {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Vault'), readme.indexOf('## CLI'));
  const command = section.slice(section.indexOf(`vault write database/roles/${role} `));
  const match = new RegExp(`${field}="((?:[^"\\\\]|\\\\.)*)"`).exec(command.slice(0, command.indexOf('\n\n')));
  return match?.[1]?.replace(/\\"/g, '"').replace(/\n\s+/g, ' ');
}

describe.each<DbKind>(['postgres', 'mysql'])('README "Vault" role statements on %s (Vault double)', (kind) => {
  let world: VaultWorld;
  beforeAll(async () => {
    world = await startVaultWorld(kind);
  });
  afterAll(async () => {
    await world.close();
  });

  it('create a user that can read, and revoke it with nothing left (sessions and owned objects included)', async () => {
    const role = kind === 'postgres' ? 'orders-readonly' : 'orders-mysql-readonly';
    const creation = readmeStatements(role, 'creation_statements');
    const revocation = readmeStatements(role, 'revocation_statements');
    expect(creation).toBeDefined();
    const database = world.db.scratch.name;
    const adapt = (text: string): string => text.replaceAll('vault_admin', `"${world.db.adminUser}"`).replaceAll('orders.*', `\`${database}\`.*`);
    const fields: Record<string, unknown> = { db_name: 'app', creation_statements: [adapt(creation ?? '')], default_ttl: 3600 };
    if (revocation !== undefined) fields.revocation_statements = [adapt(revocation)];
    expect((await world.vault.root('POST', 'database/roles/readme', fields)).status).toBe(204);
    expect((await world.vault.root('POST', 'database/config/app', { allowed_roles: ['readme'] })).status).toBeLessThan(300);

    const { broker } = world.broker();
    const resource = { ...world.resource, roles: { ...world.resource.roles, readme: { vault_role: 'readme', max_ttl: 3600 } } };
    const lease = await broker.issue({ resource, role: 'readme', grantId: newGrantId(), expiresAt: new Date(Date.now() + 600_000) });
    const session = await world.db.login({ username: lease.username, password: lease.password.reveal() });
    expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
    // Revoked by Vault alone (the session still open): the README's statements must end it and drop the user.
    expect((await world.vault.root('PUT', 'sys/leases/revoke', { lease_id: lease.leaseId })).status).toBe(204);
    expect(await world.db.userRows(lease.username)).toBe(0);
    if (kind === 'postgres') await expect(session.query('select 1')).rejects.toThrow();
    await session.end();
  });
});
