// Config loading (DESIGN §7): every malformed file is refused with the exact path and wording an operator sees;
// interpolation and admin_url expand as documented. The documented example configs: config-examples.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigText } from '../../src/config/load.js';

const PG_RESOURCE = `
  - name: orders-pg
    protocol: postgres
    host: 10.0.0.5
    port: 5432
    database: orders
    admin: { user: jitgate_admin, password: secret }
    roles:
      readonly: { max_ttl: 8h, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] }`;

const MYSQL_RESOURCE = `
  - name: orders-mysql
    protocol: mysql
    host: 10.0.0.6
    port: 3306
    database: orders
    admin: { user: root }
    roles:
      ro: { max_ttl: 1h, creation_statements: ["CREATE USER '{{name}}' IDENTIFIED BY '{{password}}'"] }`;

const POLICY = `
  - { name: dev-readonly, resources: [orders-pg], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 8h }`;

function yaml(parts: { resources?: string; policies?: string; extra?: string }): string {
  return `${parts.extra ?? ''}\nresources:${parts.resources ?? PG_RESOURCE}\npolicies:${parts.policies ?? POLICY}\n`;
}

/** The problems a config is refused with; fails the test if it loads. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parseConfigText(text, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('config unexpectedly loaded');
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'jitgate-config-test-'));

describe('malformed configs name the exact path', () => {
  it('rejects a role max_ttl that is not a duration', () => {
    const text = yaml({ resources: PG_RESOURCE + MYSQL_RESOURCE.replace('max_ttl: 1h', 'max_ttl: 30 minutes') });
    expect(problemsOf(text)).toEqual(['resources[1].roles.ro.max_ttl: expected duration like "30m"']);
  });

  it('rejects a bare number as a duration', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace('max_ttl: 8h', 'max_ttl: 30') })))
      .toEqual(['resources[0].roles.readonly.max_ttl: expected duration like "30m"']);
  });

  it('rejects a ttl below the 5s minimum', () => {
    expect(problemsOf(yaml({ policies: POLICY.replace('max_ttl: 8h', 'max_ttl: 2s') }))).toEqual(['policies[0].max_ttl: must be at least 5s']);
  });

  it('rejects unknown fields, at the top level and nested', () => {
    expect(problemsOf(yaml({ extra: 'bogus: 1' }))).toEqual(['(root): unknown field "bogus"']);
    expect(problemsOf(yaml({ resources: `${PG_RESOURCE}\n    hostname: db` }))).toEqual(['resources[0]: unknown field "hostname"']);
    expect(problemsOf(yaml({ extra: 'audit: { durabilty: fsync, file: "-" }' }))).toEqual(['audit: unknown field "durabilty"']);
  });

  it('rejects a port outside 1..65535 and a port that is not a number', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace('port: 5432', 'port: 70000') }))).toEqual(['resources[0].port: expected a port number 1..65535']);
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace('port: 5432', 'port: "abc"') }))).toEqual(['resources[0].port: expected a port number']);
  });

  it('rejects a listener that is not host:port', () => {
    expect(problemsOf(yaml({ extra: 'listen: { api: "127.0.0.1:99999" }' }))).toEqual(['listen.api: expected host:port like "127.0.0.1:7432"']);
    expect(problemsOf(yaml({ extra: 'listen: { postgres: "7432" }' }))).toEqual(['listen.postgres: expected host:port like "127.0.0.1:7432"']);
  });

  it('rejects a protocol outside the enum', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace('protocol: postgres', 'protocol: oracle') })))
      .toEqual(['resources[0].protocol: Invalid option: expected one of "postgres"|"mysql"']);
  });

  it('rejects a policy naming an unknown resource', () => {
    expect(problemsOf(yaml({ policies: POLICY.replace('resources: [orders-pg]', 'resources: [x]') })))
      .toEqual(['policies[0].resources[0]: unknown resource "x"']);
  });

  it('rejects a policy role that no listed resource defines', () => {
    expect(problemsOf(yaml({ policies: POLICY.replace('roles: [readonly]', 'roles: [readonly, owner]') })))
      .toEqual(['policies[0].roles[1]: no listed resource defines role "owner"']);
  });

  it('requires admin credentials with the builtin broker', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace('    admin: { user: jitgate_admin, password: secret }\n', '') })))
      .toEqual(['resources[0].admin: required when broker is builtin (the admin user creates and drops lease users)']);
  });

  it('requires creation statements with the builtin broker and vault_role with the vault broker', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace(", creation_statements: ['CREATE ROLE \"{{name}}\" LOGIN PASSWORD ''{{password}}''']", '') })))
      .toEqual(['resources[0].roles.readonly.creation_statements: required with the builtin broker']);
    const vault = 'brokers:\n  vault: { address: "https://vault:8200", auth: { token: "s.abc" } }';
    const vaultResource = PG_RESOURCE.replace('host: 10.0.0.5', 'host: 10.0.0.5\n    broker: vault')
      .replace(", creation_statements: ['CREATE ROLE \"{{name}}\" LOGIN PASSWORD ''{{password}}''']", '');
    expect(problemsOf(yaml({ extra: vault, resources: vaultResource }))).toEqual(['resources[0].roles.readonly.vault_role: required with the vault broker']);
  });

  it('requires brokers.vault for a vault resource', () => {
    const resource = PG_RESOURCE.replace('host: 10.0.0.5', 'host: 10.0.0.5\n    broker: vault').replace('max_ttl: 8h,', 'max_ttl: 8h, vault_role: ro,');
    expect(problemsOf(yaml({ resources: resource }))).toEqual(['resources[0].broker: broker "vault" needs brokers.vault to be configured']);
  });

  it('rejects duplicate resource, policy and API key names', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE + PG_RESOURCE }))).toEqual(['resources[1].name: duplicate resource name "orders-pg"']);
    expect(problemsOf(yaml({ policies: POLICY + POLICY }))).toEqual(['policies[1].name: duplicate policy name "dev-readonly"']);
    const keys = 'identities:\n  api_keys:\n    - { name: ci, key: "0123456789abcdef0" }\n    - { name: ci, key: "0123456789abcdef1" }';
    expect(problemsOf(yaml({ extra: keys }))).toEqual(['identities.api_keys[1].name: duplicate API key name "ci"']);
  });

  it('names the variable and the path when ${env:…} is not set', () => {
    const text = yaml({ resources: PG_RESOURCE.replace('password: secret', 'password: "${env:ORDERS_ADMIN_PW}"') });
    expect(problemsOf(text)).toEqual(['resources[0].admin.password: environment variable ORDERS_ADMIN_PW is not set']);
    expect(problemsOf(text, { ORDERS_ADMIN_PW: '' })).toEqual(['resources[0].admin.password: environment variable ORDERS_ADMIN_PW is not set']);
  });

  it('rejects an invalid environment variable name', () => {
    expect(problemsOf(yaml({ extra: 'store: { url: "sqlite:${env:DATA-DIR}/x.db" }' }))).toEqual(['store.url: invalid environment variable name "DATA-DIR"']);
  });

  it('names the file and the path when ${file:…} cannot be read', () => {
    expect(problemsOf(yaml({ extra: 'tls: { cert: "${file:/nonexistent/tls.crt}", key: "k" }' })))
      .toEqual(['tls.cert: cannot read file /nonexistent/tls.crt (ENOENT)']);
  });

  it('rejects a key_sha256 that is not 64 lowercase hex characters', () => {
    const keys = `identities:\n  api_keys:\n    - { name: admin, key_sha256: "${'A'.repeat(64)}" }`;
    expect(problemsOf(yaml({ extra: keys }))).toEqual(['identities.api_keys[0].key_sha256: expected 64 lowercase hex characters (sha256 of the key)']);
  });

  it('rejects API keys that are short, doubled or missing', () => {
    const entry = (fields: string): string => `identities:\n  api_keys:\n    - { name: ci${fields} }`;
    expect(problemsOf(yaml({ extra: entry(', key: "short"') }))).toEqual(['identities.api_keys[0].key: must be at least 16 characters']);
    expect(problemsOf(yaml({ extra: entry(`, key: "0123456789abcdef0", key_sha256: "${'a'.repeat(64)}"`) })))
      .toEqual(['identities.api_keys[0]: give either key or key_sha256, not both']);
    expect(problemsOf(yaml({ extra: entry('') }))).toEqual(['identities.api_keys[0]: one of key_sha256 or key is required (or generate: true)']);
  });

  it('reports YAML syntax errors with their line and column', () => {
    expect(problemsOf('listen:\n  api: 1\n   bad: 2\n')).toEqual([
      'line 2, column 8: Nested mappings are not allowed in compact mappings',
      'line 2, column 8: Implicit keys need to be on a single line',
    ]);
    expect(problemsOf('store:\n  url: a\n  url: b\n')).toEqual(['line 3, column 3: Map keys must be unique']);
  });

  it('requires a grace period for teardown on_disconnect, and knows only the two modes', () => {
    expect(problemsOf(yaml({ resources: `${PG_RESOURCE}\n    teardown: { mode: on_disconnect }` })))
      .toEqual(['resources[0].teardown.grace: expected duration like "30m"']);
    expect(problemsOf(yaml({ resources: `${PG_RESOURCE}\n    teardown: { mode: never }` })))
      .toEqual(['resources[0].teardown.mode: expected { mode: on_expiry } or { mode: on_disconnect, grace: "5m" }']);
  });

  it('rejects an approval count of 0, no approvers, and unknown approval words', () => {
    const approval = (rule: string): string => POLICY.replace('approval: auto', `approval: ${rule}`);
    expect(problemsOf(yaml({ policies: approval('{ approvers: [dba], count: 0 }') }))).toEqual(['policies[0].approval.count: Too small: expected number to be >=1']);
    expect(problemsOf(yaml({ policies: approval('{ approvers: [] }') }))).toEqual(['policies[0].approval.approvers: must name at least one group']);
    expect(problemsOf(yaml({ policies: approval('manual') }))).toEqual(['policies[0].approval: expected "auto" or { approvers: [group], count: n }']);
  });

  it('rejects role names that cannot become database user names, with the key rule as the message', () => {
    expect(problemsOf(yaml({ resources: PG_RESOURCE.replace('readonly: {', 'ReadOnly: {'), policies: ' []' })))
      .toEqual(['resources[0].roles.ReadOnly: expected a lowercase role name of at most 16 characters (letters, digits, "_")']);
  });

  it('rejects a store URL of another kind and a vault broker without usable auth', () => {
    expect(problemsOf(yaml({ extra: 'store: { url: "mysql://db/jitgate" }' }))).toEqual(['store.url: expected "sqlite:<path>" or "postgres://…"']);
    expect(problemsOf(yaml({ extra: 'brokers:\n  vault: { address: "vault:8200", auth: { password: x } }' }))).toEqual([
      'brokers.vault.address: expected a URL like "https://vault:8200"',
      'brokers.vault.auth: expected { token } or { approle: { role_id, secret_id } }',
    ]);
  });

  it('reports every problem at once, and says so in the error message', () => {
    const text = yaml({ resources: PG_RESOURCE.replace('port: 5432', 'port: 0').replace('protocol: postgres', 'protocol: pg') });
    expect(() => parseConfigText(text, { env: {}, source: 'broken.yaml' })).toThrow(
      'invalid config broken.yaml:\n  resources[0].protocol: Invalid option: expected one of "postgres"|"mysql"\n  resources[0].port: expected a port number 1..65535',
    );
  });

  it('reports an unreadable config file', async () => {
    await expect(loadConfigFile('/nonexistent/jitgate.yaml')).rejects.toMatchObject({ problems: ['cannot read config file (ENOENT)'] });
  });
});

describe('interpolation', () => {
  it('uses ${env:X:-default} only when X is unset or empty', () => {
    const text = yaml({ extra: 'listen: { api: "${env:API_ADDR:-127.0.0.1:9999}", mysql: "${env:MYSQL_ADDR:-}127.0.0.1:3307" }' });
    expect(parseConfigText(text, { env: {} }).listen).toEqual({ api: '127.0.0.1:9999', postgres: '127.0.0.1:7432', mysql: '127.0.0.1:3307' });
    expect(parseConfigText(text, { env: { API_ADDR: '' } }).listen.api).toBe('127.0.0.1:9999');
    expect(parseConfigText(text, { env: { API_ADDR: '0.0.0.0:80' } }).listen.api).toBe('0.0.0.0:80');
  });

  it('reads ${file:…} relative to the config file and drops one trailing newline', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'admin.pw'), 'pa$$word\n\n');
    const path = join(dir, 'jitgate.yaml');
    writeFileSync(path, yaml({ resources: PG_RESOURCE.replace('password: secret', 'password: "${file:admin.pw}"') }));
    const config = await loadConfigFile(path, {});
    expect(config.resources[0]?.admin?.password).toBe('pa$$word\n');
  });
});

describe('admin_url', () => {
  const withUrl = (url: string, fields = ''): string =>
    yaml({ resources: `\n  - { name: db, protocol: postgres, admin_url: "${url}"${fields}, roles: { ro: { max_ttl: 1h, creation_statements: ['CREATE ROLE "{{name}}" PASSWORD ''{{password}}'''] } } }`, policies: ' []' });

  it('expands into host, port, database and admin credentials', () => {
    const [resource] = parseConfigText(withUrl('postgres://jg%40admin:p%3Ass@db.internal:6543/orders'), { env: {} }).resources;
    expect(resource).toMatchObject({ host: 'db.internal', port: 6543, database: 'orders', admin: { user: 'jg@admin', password: 'p:ss' } });
  });

  it('defaults the port per protocol, unbrackets IPv6 hosts, and lets explicit fields win', () => {
    const mysql = parseConfigText(withUrl('mysql://root@[::1]/shop').replace('protocol: postgres', 'protocol: mysql'), { env: {} }).resources[0];
    expect(mysql).toMatchObject({ host: '::1', port: 3306, database: 'shop', admin: { user: 'root', password: '' } });
    const explicit = parseConfigText(withUrl('postgres://u:p@db/orders', ', database: reports, port: 7000'), { env: {} }).resources[0];
    expect(explicit).toMatchObject({ host: 'db', port: 7000, database: 'reports', admin: { user: 'u', password: 'p' } });
  });

  it('requires a database when the URL names none', () => {
    expect(problemsOf(withUrl('postgres://u@db:5432'))).toEqual(['resources[0].database: Invalid input: expected string, received undefined']);
  });

  it('rejects an admin_url that is not a URL', () => {
    expect(problemsOf(withUrl('not a url', ', host: h, port: 1, database: d, admin: { user: u }'))).toEqual(['resources[0].admin_url: expected a URL like "postgres://admin@db:5432/app"']);
  });
});

describe('role templates (builtin broker)', () => {
  it('names the role, statement and placeholder of a template typo at load', () => {
    const typo = PG_RESOURCE.replace('CREATE ROLE "{{name}}" LOGIN', 'CREATE ROLE "{{nmae}}" LOGIN');
    expect(problemsOf(yaml({ resources: typo }))).toEqual([
      'resources[0].roles.readonly.creation_statements[0]: unknown placeholder {{nmae}} (known: {{name}}, {{username}}, {{password}}, {{expiration}}, {{database}})',
      'resources[0].roles.readonly.creation_statements: no statement uses {{name}}, so the lease user would never be created',
    ]);
  });
});
