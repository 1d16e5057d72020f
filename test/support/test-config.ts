// A config for in-process API tests: SQLite in a temp dir, port 0 listeners, known API keys, and policies that
// exercise every approval path. Resources point at the test servers but no wire engine runs in these tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

export const TEST_KEYS = {
  admin: 'test-admin-key-0000000000000001',
  dev: 'test-dev-key-00000000000000000002',
  alice: 'test-alice-key-000000000000000003',
  bob: 'test-bob-key-0000000000000000004',
  carol: 'test-carol-key-00000000000000005',
  selfish: 'test-selfish-key-0000000000000006',
  auditor: 'test-auditor-key-0000000000000007',
} as const;

export type TestKeyName = keyof typeof TEST_KEYS;

const GROUPS: Record<TestKeyName, string[]> = {
  admin: ['admin', 'dba', 'auditor'],
  dev: ['dev'],
  alice: ['dba'],
  bob: ['dba'],
  carol: ['sre'],
  selfish: ['dev', 'dba'],
  auditor: ['auditor'],
};

export interface TestConfigOptions {
  readonly dataDir?: string;
  readonly storeUrl?: string;
  /** Off unless asked: these resources point at whatever listens on 5432/3306, and the sweep would revoke users there. */
  readonly sweepOnStart?: boolean;
}

export function testConfigYaml(options: TestConfigOptions = {}): { yaml: string; dataDir: string } {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'jitgate-test-'));
  const keys = (Object.keys(TEST_KEYS) as TestKeyName[])
    .map((name) => `    - { name: ${name}, key: "${TEST_KEYS[name]}", groups: [${GROUPS[name].join(', ')}] }`).join('\n');
  const yaml = `
listen: { api: "127.0.0.1:0", postgres: "127.0.0.1:0", mysql: "127.0.0.1:0" }
store: { url: "${options.storeUrl ?? `sqlite:${join(dataDir, 'jitgate.db')}`}" }
audit: { file: "${join(dataDir, 'audit.jsonl')}", durability: os, on_failure: block }
grants: { default_ttl: 1h, pending_timeout: 1h }
credentials: { sweep_on_start: ${options.sweepOnStart ?? false} }
identities:
  api_keys:
${keys}
resources:
  - name: orders-pg
    protocol: postgres
    host: 127.0.0.1
    port: 5432
    database: orders
    admin: { user: postgres, password: "" }
    roles:
      readonly: { max_ttl: 8h, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] }
      readwrite: { max_ttl: 2h, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] }
      owner: { max_ttl: 30m, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] }
  - name: orders-mysql
    protocol: mysql
    host: 127.0.0.1
    port: 3306
    database: test
    admin: { user: root }
    roles:
      readonly: { max_ttl: 8h, creation_statements: ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'"] }
policies:
  - { name: dev-readonly, resources: [orders-pg, orders-mysql], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 4h }
  - name: dev-readwrite
    resources: [orders-pg]
    roles: [readwrite]
    requesters: [dev]
    approval: { approvers: [dba], count: 1 }
    require_reason: true
    max_ttl: 1h
  - name: dev-owner
    resources: [orders-pg]
    roles: [owner]
    requesters: [dev]
    approval: { approvers: [dba, sre], count: 2 }
    max_ttl: 30m
`;
  return { yaml, dataDir };
}

export function testConfig(options: TestConfigOptions = {}): { config: Config; dataDir: string } {
  const { yaml, dataDir } = testConfigYaml(options);
  return { config: parseConfigText(yaml, { env: {} }), dataDir };
}
