// Configures a Vault (the double or a real one) over its HTTP API with the root token, the way README "Vault" tells an
// operator to: the broker policy, AppRoles, a database mount per fixture with its connection config and roles.
import type { DbFixture } from './fixtures.js';
import { firstError, record, vaultCall, type VaultReply, type VaultTarget } from './targets.js';

/** VAULT.md §3's broker policy; `+` matches any mount, so one policy serves the PostgreSQL and MariaDB mounts. */
export const BROKER_POLICY = `
# jitgate's vault broker
path "+/creds/*"         { capabilities = ["read"] }
path "sys/leases/revoke" { capabilities = ["update"] }
path "sys/leases/renew"  { capabilities = ["update"] }
path "sys/leases/lookup" { capabilities = ["update"] }
`;

export interface AppRoleCredentials {
  readonly roleId: string;
  readonly secretId: string;
}

export type AppRoleName = 'broker' | 'short' | 'capped' | 'nocreds';

const APPROLES: Record<AppRoleName, Record<string, unknown>> = {
  broker: { token_ttl: '1h', token_max_ttl: '4h', token_policies: ['jitgate-broker'] },
  /** Contract test 11: the token expires in 5 s and takes its leases along. */
  short: { token_ttl: '5s', token_max_ttl: '5s', token_policies: ['jitgate-broker'] },
  /** Contract test 3: renew-self past the max TTL is capped. */
  capped: { token_ttl: 60, token_max_ttl: 120, token_policies: ['jitgate-broker'] },
  /** Only the default policy: no database/creds. */
  nocreds: { token_ttl: '1h' },
};

export interface SeededVault {
  readonly target: VaultTarget;
  readonly approles: Readonly<Record<AppRoleName, AppRoleCredentials>>;
  root(method: string, path: string, body?: unknown): Promise<VaultReply>;
  login(approle: AppRoleName): Promise<{ token: string; accessor: string; reply: VaultReply }>;
}

export function expectStatus(reply: VaultReply, statuses: readonly number[], what: string): VaultReply {
  if (!statuses.includes(reply.status)) throw new Error(`${what}: Vault answered ${reply.status} ${firstError(reply)}`);
  return reply;
}

const seeded = new WeakMap<VaultTarget, Promise<SeededVault>>();

/** Once per target: AppRole, the broker policy, the AppRoles above. */
export function seedVault(target: VaultTarget): Promise<SeededVault> {
  let seeding = seeded.get(target);
  if (seeding === undefined) {
    seeding = seed(target);
    seeded.set(target, seeding);
  }
  return seeding;
}

async function seed(target: VaultTarget): Promise<SeededVault> {
  const root = (method: string, path: string, body?: unknown): Promise<VaultReply> =>
    vaultCall(target.address, method, path, { token: target.rootToken, ...(body === undefined ? {} : { body }) });
  expectStatus(await root('POST', 'sys/auth/approle', { type: 'approle' }), [204], 'enable approle');
  expectStatus(await root('PUT', 'sys/policies/acl/jitgate-broker', { policy: BROKER_POLICY }), [204], 'write policy');
  const approles: Partial<Record<AppRoleName, AppRoleCredentials>> = {};
  for (const [name, settings] of Object.entries(APPROLES) as [AppRoleName, Record<string, unknown>][]) {
    expectStatus(await root('POST', `auth/approle/role/${name}`, settings), [204], `approle ${name}`);
    const roleId = record(expectStatus(await root('GET', `auth/approle/role/${name}/role-id`), [200], 'role-id').body?.data).role_id;
    const secretId = record(expectStatus(await root('POST', `auth/approle/role/${name}/secret-id`), [200], 'secret-id').body?.data).secret_id;
    approles[name] = { roleId: String(roleId), secretId: String(secretId) };
  }
  const complete = approles as Record<AppRoleName, AppRoleCredentials>;
  return {
    target, approles: complete, root,
    async login(approle) {
      const { roleId, secretId } = complete[approle];
      const reply = expectStatus(await vaultCall(target.address, 'POST', 'auth/approle/login', { body: { role_id: roleId, secret_id: secretId } }), [200], 'login');
      const auth = record(reply.body?.auth);
      return { token: String(auth.client_token), accessor: String(auth.accessor), reply };
    },
  };
}

/** Role name → [default_ttl, max_ttl] (seconds) and which statement list creates it. */
const ROLES = {
  readonly: { default_ttl: 3600, max_ttl: 7200, creation: 'readonly' },
  readwrite: { default_ttl: 3600, max_ttl: 7200, creation: 'readwrite' },
  /** Contract test 10: dropped by Vault after 3 s without any call. */
  short: { default_ttl: 3, max_ttl: 60, creation: 'readonly' },
  /** Contract test 6: renewals capped at 120 s from issue. */
  capped: { default_ttl: 60, max_ttl: 120, creation: 'readonly' },
  /** Contract test 13: expires 30 s after issue, so the expiry retries start soon. */
  owner: { default_ttl: 30, max_ttl: 60, creation: 'owner' },
  logging: { default_ttl: 3600, max_ttl: 7200, creation: 'readonly', revocation: true },
  logging2: { default_ttl: 3600, max_ttl: 7200, creation: 'readonly', revocation: true },
  /** Not in the config's allowed_roles. */
  outsider: { default_ttl: 3600, max_ttl: 7200, creation: 'readonly' },
} as const;

export type SeededRole = keyof typeof ROLES;

/** A database mount for the fixture: its connection config (verify_connection on) and the roles above. */
export async function seedDatabase(vault: SeededVault, fixture: DbFixture, mount: string, extraRoles: Record<string, Record<string, unknown>> = {}): Promise<void> {
  expectStatus(await vault.root('POST', `sys/mounts/${mount}`, { type: 'database' }), [204], `mount ${mount}`);
  expectStatus(await vault.root('POST', `${mount}/config/app`, {
    plugin_name: fixture.plugin, connection_url: fixture.connectionUrl(vault.target.databaseHost),
    username: fixture.adminUser, password: fixture.adminPassword, verify_connection: true,
    allowed_roles: ['readonly', 'readwrite', 'short', 'capped', 'owner', 'logging*', ...Object.keys(extraRoles)],
  }), [200, 204], `${mount}/config/app`);
  for (const [name, role] of Object.entries(ROLES)) {
    expectStatus(await vault.root('POST', `${mount}/roles/${name}`, {
      db_name: 'app', creation_statements: fixture.statements[role.creation], default_ttl: role.default_ttl, max_ttl: role.max_ttl,
      ...('revocation' in role ? { revocation_statements: fixture.statements.loggingRevocation } : {}),
    }), [204], `${mount}/roles/${name}`);
  }
  for (const [name, role] of Object.entries(extraRoles)) {
    expectStatus(await vault.root('POST', `${mount}/roles/${name}`, { db_name: 'app', ...role }), [204], `${mount}/roles/${name}`);
  }
}
