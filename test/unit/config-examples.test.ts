// The documented configs load as written: DESIGN §7's example (with its env and files supplied) and the bundled
// config/jitgate.yaml, both bare and with every env variable DESIGN names.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'jitgate-config-test-'));

describe('documented configs load', () => {
  it('loads the DESIGN §7 example (with env and ${file:} supplied)', () => {
    const dir = tempDir();
    for (const name of ['tls.crt', 'tls.key', 'orders-ca.pem']) writeFileSync(join(dir, name), `-----BEGIN ${name}-----\n`);
    const keySha = 'a'.repeat(64);
    const text = `
listen: { api: "\${env:JITGATE_API_ADDR:-127.0.0.1:7480}", postgres: "127.0.0.1:7432", mysql: "127.0.0.1:7306" }
tls: { cert: "\${file:${dir}/tls.crt}", key: "\${file:${dir}/tls.key}", require: false }
store: { url: "sqlite:\${env:JITGATE_DATA_DIR:-./data}/jitgate.db" }
audit: { file: "\${env:JITGATE_DATA_DIR:-./data}/audit.jsonl", durability: os, parameters: full, on_failure: block }
identities:
  api_keys:
    - { name: admin, key_sha256: "${keySha}", groups: [admin, dba, auditor] }
    - { name: dev, key: "\${env:JITGATE_DEV_KEY}", groups: [dev] }
brokers:
  builtin: {}
  vault: { address: "https://vault:8200", mount: database, auth: { approle: { role_id: "role-1", secret_id: "\${env:VAULT_SECRET_ID}" } } }
resources:
  - name: orders-pg
    protocol: postgres
    host: 10.0.0.5
    port: 5432
    database: orders
    tls: { mode: verify-full, ca: "\${file:${dir}/orders-ca.pem}" }
    broker: builtin
    admin: { user: jitgate_admin, password: "\${env:ORDERS_ADMIN_PW}" }
    teardown: { mode: on_expiry }
    roles:
      readonly:
        max_ttl: 8h
        creation_statements:
          - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'
          - GRANT USAGE ON SCHEMA public TO "{{name}}"
          - GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}"
      readwrite:
        max_ttl: 1h
        creation_statements:
          - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'
          - GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{{name}}"
  # DESIGN lists "analyst" on orders-pg "with broker: vault"; a resource has one broker, so it gets its own here.
  - name: orders-analytics
    protocol: postgres
    host: 10.0.0.7
    port: 5432
    database: orders
    broker: vault
    teardown: { mode: on_disconnect, grace: 5m }
    roles:
      analyst: { vault_role: orders-analyst, max_ttl: 2h }
policies:
  - { name: dev-readonly, resources: [orders-pg], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 8h }
  - name: dev-readwrite
    resources: [orders-pg]
    roles: [readwrite]
    requesters: [dev]
    approval: { approvers: [dba], count: 1 }
    require_reason: true
    max_ttl: 1h
`;
    const env = { JITGATE_DEV_KEY: 'dev-key-0123456789abcdef', VAULT_SECRET_ID: 'secret-id', ORDERS_ADMIN_PW: 'orders-pw' };
    const config = parseConfigText(text, { env });
    expect(config.tls).toEqual({ cert: '-----BEGIN tls.crt-----', key: '-----BEGIN tls.key-----', require: false });
    expect(config.store.url).toBe('sqlite:./data/jitgate.db');
    expect(config.identities.api_keys.map((key) => key.name)).toEqual(['admin', 'dev']);
    expect(config.identities.api_keys[1]?.key).toBe('dev-key-0123456789abcdef');
    expect(config.brokers.vault?.auth).toEqual({ approle: { role_id: 'role-1', secret_id: 'secret-id' } });
    expect(config.resources[0]).toMatchObject({ tls: { mode: 'verify-full', ca: '-----BEGIN orders-ca.pem-----' }, admin: { password: 'orders-pw' } });
    expect(config.resources[0]?.roles.readonly?.max_ttl).toBe(8 * 3_600);
    expect(config.resources[1]?.teardown).toEqual({ mode: 'on_disconnect', grace: 300 });
    expect(config.policies[1]?.approval).toEqual({ approvers: ['dba'], count: 1 });
    expect(config.grants).toEqual({ default_ttl: 3_600, pending_timeout: 3_600, warn_before: 60 });
  });

  const bundled = readFileSync(new URL('../../config/jitgate.yaml', import.meta.url), 'utf8');

  it('loads the bundled config/jitgate.yaml with no env set', () => {
    const config = parseConfigText(bundled, { env: {} });
    expect(config.listen).toEqual({ api: '127.0.0.1:7480', postgres: '127.0.0.1:7432', mysql: '127.0.0.1:7306' });
    expect(config.store.url).toBe('sqlite:./data/jitgate.db');
    expect(config.audit.file).toBe('./data/audit.jsonl');
    expect(config.identities.api_keys).toEqual([
      { name: 'admin', key: '', generate: true, groups: ['admin', 'dba', 'auditor'] },
      { name: 'dev', key: '', generate: true, groups: ['dev'] },
    ]);
    expect(config.resources.map((r) => [r.name, r.protocol, r.host, r.port, r.database, r.admin?.user, Object.keys(r.roles)])).toEqual([
      ['local-pg', 'postgres', '127.0.0.1', 5432, 'postgres', 'postgres', ['readonly', 'readwrite']],
      ['local-mysql', 'mysql', '127.0.0.1', 3306, 'test', 'root', ['readonly', 'readwrite']],
    ]);
    const readwrite = config.policies.find((policy) => policy.name === 'dev-readwrite');
    expect(readwrite).toMatchObject({ requesters: ['dev'], approval: { approvers: ['dba'], count: 1 }, require_reason: true, max_ttl: 3_600 });
    expect(config.policies.find((policy) => policy.name === 'dev-readonly')).toMatchObject({ approval: 'auto', max_ttl: 8 * 3_600 });
  });

  it('loads the bundled config with every DESIGN env variable set', () => {
    const config = parseConfigText(bundled, {
      env: {
        JITGATE_API_ADDR: '0.0.0.0:8480',
        JITGATE_PG_ADDR: '0.0.0.0:8432',
        JITGATE_MYSQL_ADDR: '[::1]:8306',
        JITGATE_DATA_DIR: '/var/lib/jitgate',
        JITGATE_PG_ADMIN_URL: 'postgres://jg_admin:s3cret@pg.internal:6432/app',
        JITGATE_MYSQL_ADMIN_URL: 'mysql://root:pw@mysql.internal/shop',
        JITGATE_ADMIN_KEY: 'admin-key-0123456789abcdef',
        JITGATE_DEV_KEY: 'dev-key-0123456789abcdef',
      },
    });
    expect(config.listen).toEqual({ api: '0.0.0.0:8480', postgres: '0.0.0.0:8432', mysql: '[::1]:8306' });
    expect(config.store.url).toBe('sqlite:/var/lib/jitgate/jitgate.db');
    expect(config.audit.file).toBe('/var/lib/jitgate/audit.jsonl');
    expect(config.identities.api_keys.map((key) => key.key)).toEqual(['admin-key-0123456789abcdef', 'dev-key-0123456789abcdef']);
    expect(config.resources[0]).toMatchObject({ host: 'pg.internal', port: 6432, database: 'app', admin: { user: 'jg_admin', password: 's3cret' } });
    expect(config.resources[1]).toMatchObject({ host: 'mysql.internal', port: 3306, database: 'shop', admin: { user: 'root', password: 'pw' } });
  });
});
