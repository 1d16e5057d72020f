// What `jitgate config check` shows: the loaded config as an operator wants to review it. Pure, and free of
// secrets by construction: API keys appear by name and groups, store URLs without passwords, no admin credentials.
import { roleDatabaseWarnings } from './database-names.js';
import { formatDuration } from './duration.js';
import type { Config, PolicyConfig, ResourceConfig } from './schema.js';

export interface ConfigSummary {
  readonly listen: { readonly api: string; readonly postgres: string; readonly mysql: string };
  readonly tls: { readonly enabled: boolean; readonly require: boolean };
  readonly store: { readonly kind: 'sqlite' | 'postgres'; readonly location: string };
  readonly audit: { readonly file: string; readonly durability: string; readonly parameters: string; readonly on_failure: string };
  readonly grants: { readonly default_ttl: string; readonly pending_timeout: string; readonly warn_before: string };
  readonly apiKeys: readonly { readonly name: string; readonly groups: readonly string[]; readonly source: 'key_sha256' | 'key' | 'generated' }[];
  readonly oidc: { readonly issuer: string; readonly audience: string } | null;
  readonly brokers: readonly string[];
  readonly resources: readonly ResourceSummary[];
  readonly policies: readonly PolicySummary[];
  /** What is valid but probably wrong (a role naming a database other than its resource's), one sentence each. */
  readonly warnings: readonly string[];
}

export interface ResourceSummary {
  readonly name: string;
  readonly protocol: 'postgres' | 'mysql';
  readonly endpoint: string;
  readonly database: string;
  readonly broker: string;
  readonly tls: string;
  readonly teardown: string;
  readonly roles: readonly { readonly name: string; readonly max_ttl: string; readonly vault_role?: string }[];
}

export interface PolicySummary {
  readonly name: string;
  readonly requesters: readonly string[];
  readonly resources: readonly string[];
  readonly roles: readonly string[];
  readonly approval: string;
  readonly require_reason: boolean;
  readonly max_ttl: string;
}

/** Where the store lives, minus credentials: `postgres://u:pw@db:5432/jg` → `db:5432/jg`. */
function storeLocation(url: string): ConfigSummary['store'] {
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', location: url.slice('sqlite:'.length) };
  if (!URL.canParse(url)) return { kind: 'postgres', location: '(unparsable URL)' };
  const parsed = new URL(url);
  return { kind: 'postgres', location: `${parsed.host}${parsed.pathname}` };
}

function describeVault(config: NonNullable<Config['brokers']['vault']>): string {
  const auth = 'token' in config.auth ? 'token' : 'approle';
  return `vault ${config.address} (mount ${config.mount}, ${auth} auth)`;
}

/** `auto-approved`, or `needs 1 approval from dba`, `needs 2 approvals from dba or security`. */
export function describeApproval(approval: PolicyConfig['approval']): string {
  if (approval === 'auto') return 'auto-approved';
  return `needs ${approval.count} approval${approval.count === 1 ? '' : 's'} from ${approval.approvers.join(' or ')}`;
}

function summarizeResource(resource: ResourceConfig): ResourceSummary {
  const teardown = resource.teardown.mode === 'on_disconnect'
    ? `on_disconnect (grace ${formatDuration(resource.teardown.grace)})` : resource.teardown.mode;
  return {
    name: resource.name,
    protocol: resource.protocol,
    endpoint: `${resource.host.includes(':') ? `[${resource.host}]` : resource.host}:${resource.port}`,
    database: resource.database,
    broker: resource.broker,
    tls: resource.tls.mode,
    teardown,
    roles: Object.entries(resource.roles).map(([name, role]) => ({
      name,
      max_ttl: formatDuration(role.max_ttl),
      ...(role.vault_role === undefined ? {} : { vault_role: role.vault_role }),
    })),
  };
}

export function summarizeConfig(config: Config): ConfigSummary {
  const brokers = [
    ...(config.brokers.builtin !== undefined || config.resources.some((resource) => resource.broker === 'builtin') ? ['builtin'] : []),
    ...(config.brokers.vault === undefined ? [] : [describeVault(config.brokers.vault)]),
  ];
  return {
    listen: { ...config.listen },
    tls: { enabled: config.tls !== undefined, require: config.tls?.require ?? false },
    store: storeLocation(config.store.url),
    audit: { file: config.audit.file, durability: config.audit.durability, parameters: config.audit.parameters, on_failure: config.audit.on_failure },
    grants: {
      default_ttl: formatDuration(config.grants.default_ttl),
      pending_timeout: formatDuration(config.grants.pending_timeout),
      warn_before: formatDuration(config.grants.warn_before),
    },
    apiKeys: config.identities.api_keys.map((key) => ({
      name: key.name,
      groups: [...key.groups],
      source: key.key_sha256 !== undefined ? 'key_sha256' : key.key !== undefined && key.key !== '' ? 'key' : 'generated',
    })),
    oidc: config.identities.oidc === undefined ? null : { issuer: config.identities.oidc.issuer, audience: config.identities.oidc.audience },
    brokers,
    resources: config.resources.map(summarizeResource),
    policies: config.policies.map((policy) => ({
      name: policy.name,
      requesters: [...policy.requesters],
      resources: [...policy.resources],
      roles: [...policy.roles],
      approval: describeApproval(policy.approval),
      require_reason: policy.require_reason,
      max_ttl: formatDuration(policy.max_ttl),
    })),
    warnings: roleDatabaseWarnings(config).map((warning) => warning.message),
  };
}

const KEY_SOURCE_WORDS = { key_sha256: 'sha256 in config', key: 'key hashed at load', generated: 'generated at start' } as const;

const list = (items: readonly string[]): string => (items.length === 0 ? '(none)' : items.join(', '));

/** The summary as text lines, one fact per line, indented by nesting. */
export function formatConfigSummary(summary: ConfigSummary): string[] {
  const lines = [
    `listen     api ${summary.listen.api}, postgres ${summary.listen.postgres}, mysql ${summary.listen.mysql}`,
    `tls        ${summary.tls.enabled ? `on${summary.tls.require ? ', required' : ''}` : 'off'}`,
    `store      ${summary.store.kind} ${summary.store.location}`,
    `audit      file ${summary.audit.file}, durability ${summary.audit.durability}, parameters ${summary.audit.parameters}, on_failure ${summary.audit.on_failure}`,
    `grants     default ttl ${summary.grants.default_ttl}, pending timeout ${summary.grants.pending_timeout}, warn before ${summary.grants.warn_before}`,
    `api keys   ${summary.apiKeys.length}`,
    ...summary.apiKeys.map((key) => `  ${key.name}: groups ${list(key.groups)} (${KEY_SOURCE_WORDS[key.source]})`),
    ...(summary.oidc === null ? [] : [`oidc       issuer ${summary.oidc.issuer}, audience ${summary.oidc.audience}`]),
    `brokers    ${list(summary.brokers)}`,
    `resources  ${summary.resources.length}`,
  ];
  for (const resource of summary.resources) {
    lines.push(`  ${resource.name}: ${resource.protocol} ${resource.endpoint}, database ${resource.database}, broker ${resource.broker}, tls ${resource.tls}, teardown ${resource.teardown}`);
    for (const role of resource.roles) {
      lines.push(`    role ${role.name}: max_ttl ${role.max_ttl}${role.vault_role === undefined ? '' : `, vault role ${role.vault_role}`}`);
    }
  }
  lines.push(`policies   ${summary.policies.length}`);
  for (const policy of summary.policies) {
    lines.push(`  ${policy.name}: ${list(policy.requesters)} may request ${list(policy.roles)} on ${list(policy.resources)}; `
      + `${policy.approval}${policy.require_reason ? ', reason required' : ''}, max_ttl ${policy.max_ttl}`);
  }
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
