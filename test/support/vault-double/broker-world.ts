// What the vault broker suites share: a Vault double seeded like README "Vault" says, one scratch database, the
// resources pointing at it (with and without admin credentials), and vault brokers with a recording logger.
import { parseConfigText } from '../../../src/config/load.js';
import type { Config, ResourceConfig } from '../../../src/config/schema.js';
import { VaultBroker, type VaultBrokerOptions, type VaultLogger } from '../../../src/credentials/vault/index.js';
import { openDbFixture, type DbFixture, type DbKind } from './fixtures.js';
import { seedDatabase, seedVault, type AppRoleName, type SeededVault } from './seed.js';
import { doubleTarget, type VaultTarget } from './targets.js';

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: object;
  readonly message: string;
}

export interface RecordingLogger extends VaultLogger {
  readonly lines: LogLine[];
  /** Every line as JSON text, for "no secret in any log" checks. */
  text(): string;
}

export function recordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const add = (level: LogLine['level']) => (fields: object, message: string): void => {
    lines.push({ level, fields, message });
  };
  return { lines, info: add('info'), warn: add('warn'), error: add('error'), text: () => JSON.stringify(lines) };
}

export interface VaultWorld {
  readonly target: VaultTarget;
  readonly vault: SeededVault;
  readonly db: DbFixture;
  /** `vault-<kind>`: roles readonly, readwrite, capped, nope (unknown in Vault), outsider (not allowed); admin credentials. */
  readonly resource: ResourceConfig;
  /** The same database without admin credentials: the broker relies on Vault alone. */
  readonly bare: ResourceConfig;
  brokerConfig(approle?: AppRoleName, address?: string): NonNullable<Config['brokers']['vault']>;
  /** A broker (closed with the world) logging into the double as `approle`. */
  broker(approle?: AppRoleName, options?: Partial<VaultBrokerOptions>): { broker: VaultBroker; logger: RecordingLogger };
  close(): Promise<void>;
}

export const VAULT_ROLES_YAML = `
      readonly: { vault_role: readonly, max_ttl: 2h }
      readwrite: { vault_role: readwrite, max_ttl: 2h }
      capped: { vault_role: capped, max_ttl: 2h }
      tiny: { vault_role: tiny, max_ttl: 2h }
      nope: { vault_role: nope, max_ttl: 1h }
      outsider: { vault_role: outsider, max_ttl: 1h }`;

/** Contract roles plus `tiny` (default 2 s, max 8 s): a lease Vault ends long before any grant. */
export const EXTRA_ROLES = (db: DbFixture): Record<string, Record<string, unknown>> => ({
  tiny: { creation_statements: db.statements.readonly, default_ttl: 2, max_ttl: 8 },
});

export async function startVaultWorld(kind: DbKind): Promise<VaultWorld> {
  const target = await doubleTarget();
  const db = await openDbFixture(kind);
  const vault = await seedVault(target);
  await seedDatabase(vault, db, 'database', EXTRA_ROLES(db));
  const brokerConfig = (approle: AppRoleName = 'broker', address = target.address): NonNullable<Config['brokers']['vault']> => ({
    address, mount: 'database', auth: { approle: { role_id: vault.approles[approle].roleId, secret_id: vault.approles[approle].secretId } },
  });
  const yaml = `
brokers:
  vault: { address: "${target.address}", auth: { token: "unused" } }
resources:
  - name: vault-${kind}
    protocol: ${kind}
    broker: vault
    admin_url: "${db.scratch.url}"
    tls: { mode: disable }
    roles:${VAULT_ROLES_YAML}
  - name: vault-${kind}-bare
    protocol: ${kind}
    broker: vault
    host: ${db.host}
    port: ${db.port}
    database: ${db.scratch.name}
    tls: { mode: disable }
    roles:${VAULT_ROLES_YAML}
`;
  const [resource, bare] = parseConfigText(yaml, { env: {} }).resources;
  if (resource === undefined || bare === undefined) throw new Error('vault world: resources missing');
  const brokers: VaultBroker[] = [];
  return {
    target, vault, db, resource, bare, brokerConfig,
    broker(approle = 'broker', options = {}) {
      const logger = recordingLogger();
      const broker = new VaultBroker({ config: brokerConfig(approle), resources: [resource, bare], logger, sessionDrainTimeoutMs: 2_000, ...options });
      brokers.push(broker);
      return { broker, logger };
    },
    async close() {
      await Promise.allSettled(brokers.map((broker) => broker.close()));
      await vault.root('PUT', 'sys/leases/revoke-prefix/database/');
      await target.close();
      await db.close();
    },
  };
}
