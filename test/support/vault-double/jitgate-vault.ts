// An in-process jitgate whose resource uses the vault broker against the Vault double (config written here, so the
// builtin-only jitgate-instance.ts stays as it is): port-0 listeners, SQLite in a temp dir, the dev key auto-approved.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { parseConfigText } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log.js';
import { startJitgate, type JitgateHandle } from '../../../src/main.js';
import { apiAs } from '../api-client.js';
import type { LeaseSession } from '../broker-targets.js';
import { TEST_KEYS } from '../test-config.js';
import { VAULT_ROLES_YAML, type VaultWorld } from './broker-world.js';

export interface VaultJitgate {
  readonly handle: JitgateHandle;
  readonly resource: string;
  grant(role: string, ttl?: string): Promise<{ id: string; token: string }>;
  revoke(grantId: string): Promise<number>;
  /** Logs in through jitgate's port for the resource's protocol as the grant. */
  connect(grant: { id: string; token: string }): Promise<LeaseSession & { readonly errors: Error[] }>;
  /** Audit events of `type` (flushed first), bodies parsed. */
  events(type: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startVaultJitgate(world: VaultWorld): Promise<VaultJitgate> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jitgate-vault-'));
  const kind = world.db.kind;
  const name = `vault-${kind}`;
  const { role_id, secret_id } = ((auth) => ('approle' in auth ? auth.approle : { role_id: '', secret_id: '' }))(world.brokerConfig().auth);
  const yaml = `
listen: { api: "127.0.0.1:0", postgres: "127.0.0.1:0", mysql: "127.0.0.1:0" }
store: { url: "sqlite:${join(dataDir, 'jitgate.db')}" }
audit: { file: "${join(dataDir, 'audit.jsonl')}", batch_max_delay_ms: 2 }
credentials: { sweep_on_start: false, lease_margin: 5s }
identities:
  api_keys:
    - { name: admin, key: "${TEST_KEYS.admin}", groups: [admin, dba, auditor] }
    - { name: dev, key: "${TEST_KEYS.dev}", groups: [dev] }
brokers:
  vault:
    address: "${world.target.address}"
    mount: database
    auth: { approle: { role_id: "${role_id}", secret_id: "${secret_id}" } }
resources:
  - name: ${name}
    protocol: ${kind}
    broker: vault
    admin_url: "${world.db.scratch.url}"
    tls: { mode: disable }
    roles:${VAULT_ROLES_YAML}
policies:
  - { name: dev-any, resources: ["*"], roles: ["*"], requesters: [dev], approval: auto, max_ttl: 8h }
`;
  const handle = await startJitgate(parseConfigText(yaml, { env: {} }), createLogger(process.env.JITGATE_TEST_LOG_LEVEL ?? 'silent'));
  const dev = apiAs(handle.apiUrl, 'dev');
  return {
    handle, resource: name,
    async grant(role, ttl = '30m') {
      const { status, body } = await dev.post('/v1/grants', { resource: name, role, ttl, reason: 'vault test' });
      if (status !== 201) throw new Error(`grant request failed: ${status} ${JSON.stringify(body)}`);
      return { id: String(body.id), token: String(body.token) };
    },
    async revoke(grantId) {
      return (await dev.post(`/v1/grants/${grantId}/revoke`)).status;
    },
    connect: (grant) => (kind === 'postgres' ? connectPg(handle, grant, world.db.scratch.name) : connectMysql(handle, grant, world.db.scratch.name)),
    async events(type) {
      await handle.audit.flush();
      const events = await handle.store.readAuditEvents(0, 10_000);
      return events.filter((event) => event.type === type).map((event) => JSON.parse(event.body) as Record<string, unknown>);
    },
    close: () => handle.close(),
  };
}

async function connectPg(handle: JitgateHandle, grant: { id: string; token: string }, database: string): Promise<LeaseSession & { errors: Error[] }> {
  const { host, port } = handle.endpointFor('postgres');
  const client = new pg.Client({ host, port, database, user: grant.id, password: grant.token, connectionTimeoutMillis: 10_000 });
  const errors: Error[] = [];
  client.on('error', (error) => errors.push(error));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return { errors, query: async (sql) => (await client.query(sql)).rows, end: () => client.end().catch(() => {}) };
}

async function connectMysql(handle: JitgateHandle, grant: { id: string; token: string }, database: string): Promise<LeaseSession & { errors: Error[] }> {
  const { host, port } = handle.endpointFor('mysql');
  const connection = await mysql.createConnection({ host, port, database, user: grant.id, password: grant.token, connectTimeout: 10_000 });
  const errors: Error[] = [];
  connection.on('error', (error) => errors.push(error));
  return {
    errors,
    query: async (sql) => {
      const [rows] = await connection.query(sql);
      return Array.isArray(rows) ? rows : [rows];
    },
    end: () => connection.end().catch(() => {}),
  };
}
