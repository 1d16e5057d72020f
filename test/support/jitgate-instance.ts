// An in-process jitgate for integration suites: SQLite store in a temp dir, port-0 listeners, known API keys, and
// resources pointing at the run's throwaway servers. Suites get grants through the real HTTP API.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startJitgate, type JitgateHandle } from '../../src/main.js';
import { apiAs } from './api-client.js';
import { TEST_KEYS } from './test-config.js';

export interface TestResource {
  readonly name: string;
  readonly protocol: 'postgres' | 'mysql';
  readonly adminUrl: string;
  /** role name → creation statements (Vault-style templates). */
  readonly roles: Readonly<Record<string, { creation: readonly string[]; revocation?: readonly string[] }>>;
  readonly teardown?: 'on_expiry' | { grace: string };
  /** The resource's `tls` (YAML flow mapping); default `{ mode: disable }`. */
  readonly tls?: string;
}

export interface JitgateInstance {
  readonly handle: JitgateHandle;
  readonly dataDir: string;
  /** Requests a grant as `dev` (auto-approved by the instance's policy) and returns its id and token. */
  grant(resource: string, role: string, ttl?: string): Promise<{ id: string; token: string; expiresAt: string }>;
  close(): Promise<void>;
}

const quote = (text: string): string => JSON.stringify(text);

export interface InstanceOptions {
  readonly extraYaml?: string;
  readonly audit?: { readonly parameters?: 'full' | 'redact' | 'omit'; readonly durability?: 'os' | 'fsync'; readonly batchMaxDelayMs?: number };
  readonly warnBefore?: string;
  /** Policy list entries (YAML flow mappings) tried before the catch-all auto-approving `dev-any`. */
  readonly policies?: readonly string[];
  /**
   * Off unless asked: most suites do not need it, and it lists every resource's users at each start. Since issue 19 it
   * is safe beside other suites on the run's servers: it takes only users carrying this instance's deployment mark.
   */
  readonly sweepOnStart?: boolean;
  /** Start on an existing instance's data dir (its store and audit file): a restart of that deployment. */
  readonly dataDir?: string;
}

export async function startJitgateInstance(resources: readonly TestResource[], options: InstanceOptions = {}): Promise<JitgateInstance> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'jitgate-it-'));
  const resourceYaml = resources.map((resource) => {
    const roles = Object.entries(resource.roles).map(([role, spec]) => [
      `      ${role}:`,
      '        max_ttl: 8h',
      `        creation_statements: [${spec.creation.map(quote).join(', ')}]`,
      ...(spec.revocation ? [`        revocation_statements: [${spec.revocation.map(quote).join(', ')}]`] : []),
    ].join('\n')).join('\n');
    const teardown = resource.teardown === undefined || resource.teardown === 'on_expiry'
      ? '{ mode: on_expiry }' : `{ mode: on_disconnect, grace: "${resource.teardown.grace}" }`;
    return [
      `  - name: ${resource.name}`,
      `    protocol: ${resource.protocol}`,
      `    admin_url: ${quote(resource.adminUrl)}`,
      `    tls: ${resource.tls ?? '{ mode: disable }'}`,
      `    teardown: ${teardown}`,
      '    roles:',
      roles,
    ].join('\n');
  }).join('\n');
  const yaml = `
listen: { api: "127.0.0.1:0", postgres: "127.0.0.1:0", mysql: "127.0.0.1:0" }
store: { url: "sqlite:${join(dataDir, 'jitgate.db')}" }
audit: { file: "${join(dataDir, 'audit.jsonl')}", parameters: ${options.audit?.parameters ?? 'full'}, durability: ${options.audit?.durability ?? 'os'}, batch_max_delay_ms: ${options.audit?.batchMaxDelayMs ?? 2} }
grants: { warn_before: ${options.warnBefore ?? '60s'} }
credentials: { sweep_on_start: ${options.sweepOnStart ?? false} }
identities:
  api_keys:
    - { name: admin, key: "${TEST_KEYS.admin}", groups: [admin, dba, auditor] }
    - { name: dev, key: "${TEST_KEYS.dev}", groups: [dev] }
resources:
${resourceYaml}
policies:
${(options.policies ?? []).map((policy) => `  - ${policy}`).join('\n')}
  - { name: dev-any, resources: ["*"], roles: ["*"], requesters: [dev], approval: auto, max_ttl: 8h }
${options.extraYaml ?? ''}
`;
  const config = parseConfigText(yaml, { env: {} });
  const handle = await startJitgate(config, createLogger(process.env.JITGATE_TEST_LOG_LEVEL ?? 'silent'));
  const dev = apiAs(handle.apiUrl, 'dev');
  return {
    handle,
    dataDir,
    async grant(resource, role, ttl = '1h') {
      const { status, body } = await dev.post('/v1/grants', { resource, role, ttl, reason: 'integration test' });
      if (status !== 201) throw new Error(`grant request failed: ${status} ${JSON.stringify(body)}`);
      return { id: String(body.id), token: String(body.token), expiresAt: String(body.expiresAt) };
    },
    close: () => handle.close(),
  };
}
