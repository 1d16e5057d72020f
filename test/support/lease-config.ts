// Config text for lease tests: resources on real servers (given as admin URLs, so a test can point one at a TCP proxy),
// a readonly role per engine, auto-approved grants for `dev`, every listener on port 0, the sweep as the test asks.
import { TEST_KEYS } from './test-config.js';

export interface LeaseTestResource {
  readonly name: string;
  readonly protocol: 'postgres' | 'mysql';
  /** Admin URL including the database the role grants on. */
  readonly adminUrl: string;
}

export interface LeaseConfigOptions {
  readonly dataDir: string;
  readonly resources: readonly LeaseTestResource[];
  readonly sweepOnStart: boolean;
}

const yamlString = (text: string): string => JSON.stringify(text);

function roleYaml(resource: LeaseTestResource): string {
  if (resource.protocol === 'postgres') {
    return `
      readonly:
        max_ttl: 8h
        creation_statements:
          - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'
          - GRANT USAGE ON SCHEMA public TO "{{name}}"`;
  }
  const database = decodeURIComponent(new URL(resource.adminUrl).pathname.slice(1));
  return `
      readonly:
        max_ttl: 8h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON \`${database}\`.* TO '{{name}}'@'%'`;
}

export function leaseConfigYaml(options: LeaseConfigOptions): string {
  const resources = options.resources.map((resource) => `
  - name: ${resource.name}
    protocol: ${resource.protocol}
    admin_url: ${yamlString(resource.adminUrl)}
    tls: { mode: disable }
    roles:${roleYaml(resource)}`).join('');
  return `
listen: { api: "127.0.0.1:0", postgres: "127.0.0.1:0", mysql: "127.0.0.1:0" }
store: { url: ${yamlString(`sqlite:${options.dataDir}/jitgate.db`)} }
audit: { file: ${yamlString(`${options.dataDir}/audit.jsonl`)}, durability: os, on_failure: block }
credentials: { sweep_on_start: ${options.sweepOnStart}, lease_margin: 60s }
identities:
  api_keys:
    - { name: dev, key: "${TEST_KEYS.dev}", groups: [dev] }
    - { name: admin, key: "${TEST_KEYS.admin}", groups: [admin, dba, auditor] }
resources:${resources}
policies:
  - { name: dev-readonly, resources: ["*"], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 1h }
`;
}
