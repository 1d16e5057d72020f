// `jitgate config check` output: what an operator reviews, and never a secret.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { describeApproval, formatConfigSummary, summarizeConfig } from '../../src/config/summary.js';

const bundled = readFileSync(new URL('../../config/jitgate.yaml', import.meta.url), 'utf8');

const SECRETS = {
  devKey: 'dev-key-very-secret-0001',
  storePassword: 'store-pw-secret',
  adminPassword: 'admin-pw-secret',
  vaultSecret: 'vault-secret-id-secret',
  tlsKey: 'TLS-PRIVATE-KEY-SECRET',
};

const full = parseConfigText(`
tls: { cert: "CERT", key: "${SECRETS.tlsKey}", require: true }
store: { url: "postgres://jitgate:${SECRETS.storePassword}@pg.internal:5432/jitgate" }
audit: { file: /var/log/jitgate/audit.jsonl, durability: fsync, parameters: redact, on_failure: continue }
grants: { default_ttl: 30m, pending_timeout: 2h, warn_before: 90s }
identities:
  api_keys:
    - { name: admin, key_sha256: "${'b'.repeat(64)}", groups: [admin] }
    - { name: dev, key: "${SECRETS.devKey}", groups: [dev, oncall] }
    - { name: bot, generate: true }
brokers:
  vault: { address: "https://vault:8200", auth: { approle: { role_id: r, secret_id: "${SECRETS.vaultSecret}" } } }
resources:
  - name: orders-pg
    protocol: postgres
    admin_url: "postgres://jg_admin:${SECRETS.adminPassword}@[fd00::5]:6432/orders"
    tls: { mode: verify-full }
    teardown: { mode: on_disconnect, grace: 5m }
    roles:
      readonly: { max_ttl: 90m, creation_statements: ['CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''] }
  - name: orders-vault
    protocol: mysql
    host: mysql.internal
    port: 3306
    database: orders
    broker: vault
    roles:
      analyst: { vault_role: orders-analyst, max_ttl: 2h }
policies:
  - { name: ro, resources: ["*"], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 8h }
  - { name: an, resources: [orders-vault], roles: [analyst], requesters: [dev, oncall], approval: { approvers: [dba, security], count: 2 }, require_reason: true, max_ttl: 1h }
`, { env: {} });

describe('summarizeConfig', () => {
  it('summarises every section', () => {
    expect(summarizeConfig(full)).toEqual({
      listen: { api: '127.0.0.1:7480', postgres: '127.0.0.1:7432', mysql: '127.0.0.1:7306' },
      tls: { enabled: true, require: true },
      store: { kind: 'postgres', location: 'pg.internal:5432/jitgate' },
      audit: { file: '/var/log/jitgate/audit.jsonl', durability: 'fsync', parameters: 'redact', on_failure: 'continue' },
      grants: { default_ttl: '30m', pending_timeout: '2h', warn_before: '1m30s' },
      apiKeys: [
        { name: 'admin', groups: ['admin'], source: 'key_sha256' },
        { name: 'dev', groups: ['dev', 'oncall'], source: 'key' },
        { name: 'bot', groups: [], source: 'generated' },
      ],
      oidc: null,
      brokers: ['builtin', 'vault https://vault:8200 (mount database, approle auth)'],
      resources: [
        {
          name: 'orders-pg', protocol: 'postgres', endpoint: '[fd00::5]:6432', database: 'orders', broker: 'builtin', tls: 'verify-full',
          teardown: 'on_disconnect (grace 5m)', roles: [{ name: 'readonly', max_ttl: '1h30m' }],
        },
        {
          name: 'orders-vault', protocol: 'mysql', endpoint: 'mysql.internal:3306', database: 'orders', broker: 'vault', tls: 'prefer',
          teardown: 'on_expiry', roles: [{ name: 'analyst', max_ttl: '2h', vault_role: 'orders-analyst' }],
        },
      ],
      policies: [
        { name: 'ro', requesters: ['dev'], resources: ['*'], roles: ['readonly'], approval: 'auto-approved', require_reason: false, max_ttl: '8h' },
        {
          name: 'an', requesters: ['dev', 'oncall'], resources: ['orders-vault'], roles: ['analyst'],
          approval: 'needs 2 approvals from dba or security', require_reason: true, max_ttl: '1h',
        },
      ],
      warnings: [],
    });
  });

  it('never carries a key, password, secret id or TLS key', () => {
    const everything = JSON.stringify(summarizeConfig(full)) + formatConfigSummary(summarizeConfig(full)).join('\n');
    for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
    expect(everything).not.toContain('b'.repeat(64));
  });

  it('describes approval rules', () => {
    expect(describeApproval('auto')).toBe('auto-approved');
    expect(describeApproval({ approvers: ['dba'], count: 1 })).toBe('needs 1 approval from dba');
  });
});

describe('role statements naming another database', () => {
  // The bundled MySQL roles as they were before {{database}} (issue 19), pointed at a database not named test.
  const config = parseConfigText(`
resources:
  - name: local-mysql
    protocol: mysql
    admin_url: "mysql://root@127.0.0.1:3306/accdb"
    roles:
      readonly:
        max_ttl: 8h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON \`test\`.* TO '{{name}}'@'%'
      readwrite:
        max_ttl: 1h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON \`{{database}}\`.* TO '{{name}}'@'%'; GRANT SELECT ON accdb.* TO '{{name}}'@'%'
          - GRANT INSERT ON TABLE audit_db.events TO '{{name}}'@'%' /* ON other.* */
          - GRANT SELECT ON *.* TO '{{name}}'@'%'
  - name: orders-pg
    protocol: postgres
    admin_url: "postgres://admin@db:5432/orders"
    roles:
      readonly:
        max_ttl: 1h
        creation_statements:
          - CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'
          - GRANT CONNECT ON DATABASE orders, {{database}}, "Orders" TO "{{name}}"
          - ALTER ROLE "{{name}}" IN DATABASE Reports SET search_path = 'on database x'
          - GRANT CONNECT ON DATABASE "{{database}}" TO "{{name}}"
`, { env: {} });

  it('warns naming the resource, role, statement index and both databases', () => {
    expect(summarizeConfig(config).warnings).toEqual([
      'resource "local-mysql" role "readonly" creation_statements[1] names database "test", but the resource\'s database is "accdb": '
        + 'lease users may be refused at login (write {{database}} to follow the resource)',
      'resource "local-mysql" role "readwrite" creation_statements[2] names database "audit_db", but the resource\'s database is "accdb": '
        + 'lease users may be refused at login (write {{database}} to follow the resource)',
      'resource "orders-pg" role "readonly" creation_statements[1] names database "Orders", but the resource\'s database is "orders": '
        + 'lease users may be refused at login (write {{database}} to follow the resource)',
      'resource "orders-pg" role "readonly" creation_statements[2] names database "reports", but the resource\'s database is "orders": '
        + 'lease users may be refused at login (write {{database}} to follow the resource)',
    ]);
  });

  it('prints each warning as a line of config check, which still succeeds', () => {
    const lines = formatConfigSummary(summarizeConfig(config));
    expect(lines.filter((line) => line.startsWith('warning: '))).toHaveLength(4);
    expect(lines.at(-4)).toMatch(/^warning: resource "local-mysql" role "readonly" creation_statements\[1\] names database "test"/);
  });

  it('finds nothing to warn about in the bundled config, whatever database the admin URLs name', () => {
    const env = { JITGATE_MYSQL_ADMIN_URL: 'mysql://root@127.0.0.1:3306/accdb', JITGATE_PG_ADMIN_URL: 'postgres://postgres@127.0.0.1/app' };
    expect(summarizeConfig(parseConfigText(bundled, { env })).warnings).toEqual([]);
  });
});

describe('formatConfigSummary', () => {
  it('prints the bundled config as one fact per line', () => {
    expect(formatConfigSummary(summarizeConfig(parseConfigText(bundled, { env: {} })))).toEqual([
      'listen     api 127.0.0.1:7480, postgres 127.0.0.1:7432, mysql 127.0.0.1:7306',
      'tls        off',
      'store      sqlite ./data/jitgate.db',
      'audit      file ./data/audit.jsonl, durability os, parameters full, on_failure block',
      'grants     default ttl 1h, pending timeout 1h, warn before 1m',
      'api keys   2',
      '  admin: groups admin, dba, auditor (generated at start)',
      '  dev: groups dev (generated at start)',
      'brokers    builtin',
      'resources  2',
      '  local-pg: postgres 127.0.0.1:5432, database postgres, broker builtin, tls prefer, teardown on_expiry',
      '    role readonly: max_ttl 8h',
      '    role readwrite: max_ttl 1h',
      '  local-mysql: mysql 127.0.0.1:3306, database test, broker builtin, tls prefer, teardown on_expiry',
      '    role readonly: max_ttl 8h',
      '    role readwrite: max_ttl 1h',
      'policies   3',
      '  dev-readonly: dev may request readonly on local-pg, local-mysql; auto-approved, max_ttl 8h',
      '  dev-readwrite: dev may request readwrite on local-pg, local-mysql; needs 1 approval from dba, reason required, max_ttl 1h',
      '  admin-any: admin may request * on *; auto-approved, max_ttl 1h',
    ]);
  });

  it('lists a key without groups as "(none)" and shows tls, oidc and vault roles', () => {
    const lines = formatConfigSummary(summarizeConfig(full));
    expect(lines).toContain('  bot: groups (none) (generated at start)');
    expect(lines).toContain('tls        on, required');
    expect(lines).toContain('    role analyst: max_ttl 2h, vault role orders-analyst');
    expect(lines).toContain('store      postgres pg.internal:5432/jitgate');
  });
});
