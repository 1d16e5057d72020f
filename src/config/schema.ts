// The config file's shape (DESIGN §7). Field names are a public contract: extend, never rename.
import { z } from 'zod';
import { parseDurationSeconds } from './duration.js';

const MIN_TTL_SECONDS = 5;

/** A duration string ("30m") validated and turned into seconds. */
const duration = (minSeconds = 0) =>
  z.string({ error: 'expected duration like "30m"' }).transform((text, ctx) => {
    const seconds = parseDurationSeconds(text);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected duration like "30m"' });
      return z.NEVER;
    }
    if (seconds < minSeconds) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${minSeconds}s` });
      return z.NEVER;
    }
    return seconds;
  });

const HOST_PORT = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const hostPort = z.string().refine((text) => {
  const match = HOST_PORT.exec(text);
  return match !== null && Number(match[1]) <= 65_535;
}, 'expected host:port like "127.0.0.1:7432"');

const name = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'expected a lowercase name (letters, digits, "-", "_")');
const roleName = z.string().regex(/^[a-z][a-z0-9_]{0,15}$/, 'expected a lowercase role name of at most 16 characters (letters, digits, "_")');
const nonEmpty = z.string().min(1, 'must not be empty');

const listenSchema = z.strictObject({
  api: hostPort.default('127.0.0.1:7480'),
  postgres: hostPort.default('127.0.0.1:7432'),
  mysql: hostPort.default('127.0.0.1:7306'),
});

const tlsSchema = z.strictObject({
  cert: nonEmpty,
  key: nonEmpty,
  ca: nonEmpty.optional(),
  require: z.boolean().default(false),
});

const storeSchema = z.strictObject({
  url: z.string().refine((url) => url.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(url),
    'expected "sqlite:<path>" or "postgres://…"'),
});

const auditSchema = z.strictObject({
  /** JSON-lines file for SIEM shipping; "-" means stdout. */
  file: nonEmpty.default('-'),
  durability: z.enum(['os', 'fsync']).default('os'),
  parameters: z.enum(['full', 'redact', 'omit']).default('full'),
  on_failure: z.enum(['block', 'continue']).default('block'),
  batch_max_events: z.number().int().min(1).max(100_000).default(512),
  batch_max_delay_ms: z.number().int().min(0).max(10_000).default(20),
});

const apiKeySchema = z.strictObject({
  name,
  key_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters (sha256 of the key)').optional(),
  key: z.string().optional(),
  /** With an empty `key`, a random one is generated at start and printed once (dev setups). */
  generate: z.boolean().default(false),
  groups: z.array(name).default([]),
}).superRefine((entry, ctx) => {
  const hasKey = entry.key !== undefined && entry.key !== '';
  if (entry.key_sha256 !== undefined && hasKey) ctx.addIssue({ code: 'custom', message: 'give either key or key_sha256, not both' });
  if (entry.key_sha256 === undefined && !hasKey && !entry.generate) {
    ctx.addIssue({ code: 'custom', message: 'one of key_sha256 or key is required (or generate: true)' });
  }
  if (hasKey && (entry.key?.length ?? 0) < 16) ctx.addIssue({ code: 'custom', path: ['key'], message: 'must be at least 16 characters' });
});

const identitiesSchema = z.strictObject({
  api_keys: z.array(apiKeySchema).default([]),
  oidc: z.strictObject({ issuer: nonEmpty, audience: nonEmpty, jwks_url: nonEmpty, groups_claim: nonEmpty.default('groups') }).optional(),
});

const vaultBrokerSchema = z.strictObject({
  // http(s) only: without it, the common slip "vault:8200" parses as a URL with the scheme "vault:".
  address: z.url({ protocol: /^https?$/, error: 'expected a URL like "https://vault:8200"' }),
  namespace: nonEmpty.optional(),
  mount: nonEmpty.default('database'),
  auth: z.union([
    z.strictObject({ token: nonEmpty }),
    z.strictObject({ approle: z.strictObject({ role_id: nonEmpty, secret_id: nonEmpty }) }),
  ], { error: 'expected { token } or { approle: { role_id, secret_id } }' }),
  tls: z.strictObject({ ca: nonEmpty.optional(), cert: nonEmpty.optional(), key: nonEmpty.optional(), skip_verify: z.boolean().default(false) }).optional(),
});

const brokersSchema = z.strictObject({
  builtin: z.strictObject({}).optional(),
  vault: vaultBrokerSchema.optional(),
});

const roleSchema = z.strictObject({
  max_ttl: duration(MIN_TTL_SECONDS),
  creation_statements: z.array(nonEmpty).min(1, 'must list at least one statement').optional(),
  revocation_statements: z.array(nonEmpty).optional(),
  rollback_statements: z.array(nonEmpty).optional(),
  renew_statements: z.array(nonEmpty).optional(),
  vault_role: nonEmpty.optional(),
});

const resourceTlsSchema = z.strictObject({
  mode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).default('prefer'),
  ca: nonEmpty.optional(),
});

const teardownSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('on_expiry') }),
  z.strictObject({ mode: z.literal('on_disconnect'), grace: duration(0) }),
], { error: 'expected { mode: on_expiry } or { mode: on_disconnect, grace: "5m" }' });

/**
 * `admin_url: postgres://user:pw@host:port/db` (or mysql://…) is shorthand for host, port, database and admin;
 * fields given explicitly win. The bundled config uses it so one env variable points a resource at a server.
 */
function expandAdminUrl(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || !('admin_url' in input) || typeof input.admin_url !== 'string') return input;
  let url: URL;
  try {
    url = new URL(input.admin_url);
  } catch {
    return input; // the admin_url refinement below reports it
  }
  const resource = input as Record<string, unknown>;
  const defaultPort = url.protocol === 'mysql:' ? 3306 : 5432;
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    ...resource,
    host: resource.host ?? url.hostname.replace(/^\[|\]$/g, ''),
    port: resource.port ?? (url.port === '' ? defaultPort : Number(url.port)),
    ...(database === '' && resource.database === undefined ? {} : { database: resource.database ?? database }),
    admin: resource.admin ?? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
  };
}

const resourceSchema = z.preprocess(expandAdminUrl, z.strictObject({
  name,
  protocol: z.enum(['postgres', 'mysql']),
  admin_url: z.string().refine((text) => URL.canParse(text), 'expected a URL like "postgres://admin@db:5432/app"').optional(),
  host: nonEmpty,
  port: z.coerce.number({ error: 'expected a port number' }).int().min(1, 'expected a port number 1..65535').max(65_535, 'expected a port number 1..65535'),
  database: nonEmpty,
  tls: resourceTlsSchema.default({ mode: 'prefer' }),
  broker: z.enum(['builtin', 'vault']).default('builtin'),
  admin: z.strictObject({ user: nonEmpty, password: z.string().default('') }).optional(),
  teardown: teardownSchema.default({ mode: 'on_expiry' }),
  roles: z.record(roleName, roleSchema).refine((roles) => Object.keys(roles).length > 0, 'must define at least one role'),
}));

const approvalSchema = z.union([
  z.literal('auto'),
  z.strictObject({ approvers: z.array(name).min(1, 'must name at least one group'), count: z.number().int().min(1).default(1) }),
], { error: 'expected "auto" or { approvers: [group], count: n }' });

const policySchema = z.strictObject({
  name,
  resources: z.array(z.string()).min(1, 'must name at least one resource (or "*")'),
  roles: z.array(z.string()).min(1, 'must name at least one role (or "*")'),
  requesters: z.array(name).min(1, 'must name at least one group'),
  approval: approvalSchema,
  require_reason: z.boolean().default(false),
  max_ttl: duration(MIN_TTL_SECONDS),
  source_cidrs: z.array(nonEmpty).optional(),
});

const grantsSchema = z.strictObject({
  default_ttl: duration(MIN_TTL_SECONDS).default(3_600),
  pending_timeout: duration(MIN_TTL_SECONDS).default(3_600),
  warn_before: duration(0).default(60),
});

const credentialsSchema = z.strictObject({
  /** Revoke at start what the previous run left: unrevoked leases (their passwords died with it), jg_ users no lease accounts for. */
  sweep_on_start: z.boolean().default(true),
  /** Added to a grant's end to give its lease user's own end (VALID UNTIL, Vault TTL): the net if jitgate is gone. */
  lease_margin: duration(0).default(60),
});

const limitsSchema = z.strictObject({
  /** Largest client message the Postgres port accepts (PostgreSQL itself allows up to 1 GB). */
  max_message_bytes: z.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(256 * 1024 * 1024),
  /** SQL text kept per statement event; longer text keeps its head plus length and SHA-256 (DESIGN §10). */
  max_audit_sql_bytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(1024 * 1024),
});

export const configSchema = z.strictObject({
  listen: listenSchema.default({ api: '127.0.0.1:7480', postgres: '127.0.0.1:7432', mysql: '127.0.0.1:7306' }),
  tls: tlsSchema.optional(),
  store: storeSchema.default({ url: 'sqlite:./data/jitgate.db' }),
  audit: auditSchema.default({ file: '-', durability: 'os', parameters: 'full', on_failure: 'block', batch_max_events: 512, batch_max_delay_ms: 20 }),
  grants: grantsSchema.default({ default_ttl: 3_600, pending_timeout: 3_600, warn_before: 60 }),
  identities: identitiesSchema.default({ api_keys: [] }),
  brokers: brokersSchema.default({}),
  credentials: credentialsSchema.default({ sweep_on_start: true, lease_margin: 60 }),
  limits: limitsSchema.default({ max_message_bytes: 256 * 1024 * 1024, max_audit_sql_bytes: 1024 * 1024 }),
  resources: z.array(resourceSchema).default([]),
  policies: z.array(policySchema).default([]),
});

export type Config = z.output<typeof configSchema>;
export type ResourceConfig = Config['resources'][number];
export type RoleConfig = ResourceConfig['roles'][string];
export type PolicyConfig = Config['policies'][number];
export type ApiKeyConfig = Config['identities']['api_keys'][number];
