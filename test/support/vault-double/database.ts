// The database secrets engine (VAULT.md §2): connection configs (verify_connection really connects), roles, and
// creds that create real users on the test servers with the role's configured statements and register a lease
// under the calling token. Also the engine's side of lease renew and revoke.
import type { DoubleClock } from './clock.js';
import { openPluginConnection, PLUGINS, type PluginConnection } from './db-plugins.js';
import {
  booleanField, commaList, emptyRead, envelope, failure, listReply, noContent, stringField, stringList, unsupportedOperation,
  unsupportedPath, wrapped, type DoubleRequest, type Reply,
} from './http.js';
import type { LeaseBackend, LeaseEntry, LeaseStore } from './leases.js';
import { dbUsername, formatExpiration, goDuration, newDbPassword, newLeaseSuffix, parseTtl } from './names.js';
import { MOUNT_DEFAULT_TTL, MOUNT_MAX_TTL, type TokenEntry } from './tokens.js';

interface DbConfig {
  readonly name: string;
  plugin: string;
  connectionUrl: string;
  username: string;
  password: string;
  allowedRoles: string[];
  verifyConnection: boolean;
  disableEscaping: boolean;
  maxOpenConnections: number;
  usernameTemplate: string;
  connection: PluginConnection | undefined;
}

interface DbRole {
  readonly name: string;
  dbName: string;
  creation: string[];
  revocation: string[];
  rollback: string[];
  renew: string[];
  defaultTtl: number;
  maxTtl: number;
}

const ROLE_NAME = /^[\w.-]+$/;
const RENEW_FAILED = 'failed to renew entry: resp: (*logical.Response)(nil) err: ';
const STATEMENT_FIELDS = { creation_statements: 'creation', revocation_statements: 'revocation', rollback_statements: 'rollback', renew_statements: 'renew' } as const;

const globMatch = (patterns: readonly string[], name: string): boolean => patterns.some((pattern) =>
  new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name));

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class DatabaseBackend implements LeaseBackend {
  readonly #configs = new Map<string, DbConfig>();
  readonly #roles = new Map<string, DbRole>();
  /** Every user this engine created, for the test hook that lists live users. */
  readonly #created = new Map<string, string>();

  constructor(readonly mount: string, private readonly clock: DoubleClock, private readonly leases: LeaseStore) {}

  async handle(request: DoubleRequest, rest: string, caller: TokenEntry): Promise<Reply> {
    const [kind = '', ...tail] = rest.split('/');
    const name = tail.join('/');
    if (name === '' && (kind === 'config' || kind === 'roles')) {
      return request.operation === 'list' ? listReply([...(kind === 'config' ? this.#configs : this.#roles).keys()], 'database') : unsupportedOperation();
    }
    switch (kind) {
      case 'config': return this.#config(request, name);
      case 'roles': return ROLE_NAME.test(name) ? this.#role(request, name) : unsupportedPath();
      case 'creds': return ROLE_NAME.test(name) ? this.#creds(request, name, caller) : unsupportedPath();
      default: return unsupportedPath();
    }
  }

  async #config(request: DoubleRequest, name: string): Promise<Reply> {
    const existing = this.#configs.get(name);
    if (request.operation === 'read') return existing === undefined ? emptyRead() : envelope({ data: describeConfig(existing), mountType: 'database' });
    if (request.operation === 'delete') {
      this.#configs.delete(name);
      await existing?.connection?.close().catch(() => {});
      return noContent();
    }
    if (request.operation !== 'update') return unsupportedOperation();
    const body = request.body;
    const plugin = stringField(body, 'plugin_name') ?? existing?.plugin ?? '';
    if (plugin === '') return failure(400, 'empty plugin name');
    const config: DbConfig = {
      name, plugin,
      connectionUrl: stringField(body, 'connection_url') ?? existing?.connectionUrl ?? '',
      username: stringField(body, 'username') ?? existing?.username ?? '',
      password: stringField(body, 'password') ?? existing?.password ?? '',
      allowedRoles: commaList(body.allowed_roles) ?? existing?.allowedRoles ?? [],
      verifyConnection: booleanField(body, 'verify_connection') ?? true,
      disableEscaping: booleanField(body, 'disable_escaping') ?? existing?.disableEscaping ?? false,
      maxOpenConnections: typeof body.max_open_connections === 'number' ? body.max_open_connections : existing?.maxOpenConnections ?? 4,
      usernameTemplate: stringField(body, 'username_template') ?? existing?.usernameTemplate ?? '',
      connection: undefined,
    };
    if (PLUGINS[plugin] === undefined) return failure(400, `error creating database object: plugin not found in the catalog: ${plugin}`);
    const connection = openPluginConnection({ ...config, disableEscaping: config.disableEscaping });
    if (config.verifyConnection) {
      try {
        await connection.verify();
      } catch (error) {
        await connection.close().catch(() => {});
        return failure(400, `error creating database object: error verifying connection: ${errorText(error)}`);
      }
    }
    config.connection = connection;
    await existing?.connection?.close().catch(() => {});
    this.#configs.set(name, config);
    const literalPassword = /^[^:/]+:\/\/[^:@/]+:(?!\{\{password\}\})[^@]+@/.test(config.connectionUrl);
    return literalPassword
      ? envelope({ warnings: ['Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information.'] })
      : noContent();
  }

  #role(request: DoubleRequest, name: string): Reply {
    const existing = this.#roles.get(name);
    switch (request.operation) {
      case 'read':
        return existing === undefined ? emptyRead() : envelope({ data: describeRole(existing), mountType: 'database' });
      case 'delete':
        this.#roles.delete(name);
        return noContent();
      case 'list':
        return unsupportedOperation();
      case 'update': {
        const dbName = stringField(request.body, 'db_name') ?? existing?.dbName ?? '';
        if (dbName === '') return failure(400, 'database name is required');
        const role: DbRole = existing ?? { name, dbName, creation: [], revocation: [], rollback: [], renew: [], defaultTtl: 0, maxTtl: 0 };
        role.dbName = dbName;
        for (const [field, key] of Object.entries(STATEMENT_FIELDS)) {
          const list = stringList(request.body[field]);
          if (list !== undefined) role[key] = list;
        }
        for (const [field, key] of [['default_ttl', 'defaultTtl'], ['max_ttl', 'maxTtl']] as const) {
          const seconds = parseTtl(request.body[field]);
          if (seconds !== undefined && Number.isNaN(seconds)) return failure(400, `invalid ${field}`);
          if (seconds !== undefined) role[key] = seconds;
        }
        this.#roles.set(name, role);
        return noContent();
      }
    }
  }

  async #creds(request: DoubleRequest, roleName: string, caller: TokenEntry): Promise<Reply> {
    if (request.operation !== 'read') return unsupportedOperation();
    const role = this.#roles.get(roleName);
    if (role === undefined) return failure(400, `unknown role: ${roleName}`);
    const config = this.#configs.get(role.dbName);
    if (config?.connection === undefined) return wrapped(500, `failed to find entry for connection with name: "${role.dbName}"`);
    if (!globMatch(config.allowedRoles, roleName)) return wrapped(500, `"${roleName}" is not an allowed role`);
    if (role.creation.length === 0) return wrapped(500, 'empty creation statements');
    if (config.usernameTemplate !== '') return wrapped(500, 'username_template is not implemented by the Vault double');
    const now = this.clock.now();
    const maxTtl = Math.min(role.maxTtl > 0 ? role.maxTtl : MOUNT_MAX_TTL, MOUNT_MAX_TTL);
    const ttl = Math.min(role.defaultTtl > 0 ? role.defaultTtl : MOUNT_DEFAULT_TTL, maxTtl);
    const username = dbUsername(config.plugin, caller.displayName, roleName, now);
    const password = newDbPassword();
    try {
      await config.connection.createUser(role.creation, { name: username, password, expiration: formatExpiration(now + (ttl + 5) * 1000) });
    } catch (error) {
      return wrapped(500, errorText(error));
    }
    this.#created.set(username, config.name);
    const lease: LeaseEntry = {
      id: `${this.mount}creds/${roleName}/${newLeaseSuffix()}`, mount: this.mount, role: roleName, dbName: config.name, username,
      issueTime: now, expireTime: now + ttl * 1000, lastRenewal: undefined, renewable: true, tokenId: caller.id,
      revocationStatements: [...role.revocation], attempts: 0, irrevocable: false, lastError: undefined, timer: undefined, revoking: undefined,
    };
    this.leases.register(lease);
    return envelope({ leaseId: lease.id, renewable: true, leaseDuration: ttl, data: { username, password }, mountType: 'database' });
  }

  /** From now, `increment` or the role's default; cut at issue time + max TTL (VAULT.md §3); PG renew statements run. */
  async renew(lease: LeaseEntry, increment: number | undefined): Promise<{ ttl: number; warnings: string[] } | Reply> {
    const role = this.#roles.get(lease.role);
    if (role === undefined) return failure(400, `${RENEW_FAILED}could not find role with name: ${lease.role}`);
    const now = this.clock.now();
    let ttl = increment !== undefined && increment > 0 ? increment : role.defaultTtl > 0 ? role.defaultTtl : MOUNT_DEFAULT_TTL;
    const maxTtl = Math.min(role.maxTtl > 0 ? role.maxTtl : MOUNT_MAX_TTL, MOUNT_MAX_TTL);
    const left = Math.floor((lease.issueTime + maxTtl * 1000 - now) / 1000);
    if (left <= 0) return failure(400, `${RENEW_FAILED}past the max TTL, cannot renew`);
    const warnings: string[] = [];
    if (ttl > left) {
      warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(left)}"; TTL value is capped accordingly`);
      ttl = left;
    }
    const connection = this.#configs.get(lease.dbName)?.connection;
    if (connection === undefined) return failure(400, `${RENEW_FAILED}failed to find entry for connection with name: "${lease.dbName}"`);
    try {
      await connection.renewUser(role.renew, { name: lease.username, expiration: formatExpiration(now + (ttl + 5) * 1000) });
    } catch (error) {
      return failure(400, `${RENEW_FAILED}${errorText(error)}`);
    }
    return { ttl, warnings };
  }

  /** The current role's revocation statements, the captured ones if the role is gone, the plugin default when empty. */
  async revoke(lease: LeaseEntry): Promise<void> {
    const connection = this.#configs.get(lease.dbName)?.connection;
    if (connection === undefined) throw new Error(`failed to find entry for connection with name: "${lease.dbName}"`);
    const statements = this.#roles.get(lease.role)?.revocation ?? lease.revocationStatements;
    await connection.revokeUser(statements, lease.username);
  }

  /** Users this engine created that still exist on their server. */
  async liveUsers(): Promise<{ readonly db: string; readonly username: string }[]> {
    const live: { db: string; username: string }[] = [];
    for (const [username, db] of this.#created) {
      const connection = this.#configs.get(db)?.connection;
      if (connection !== undefined && (await connection.userExists(username))) live.push({ db, username });
      else this.#created.delete(username);
    }
    return live;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#configs.values()].map((config) => config.connection?.close()));
    this.#configs.clear();
  }
}

function describeConfig(config: DbConfig): Record<string, unknown> {
  return {
    plugin_name: config.plugin, plugin_version: '', allowed_roles: config.allowedRoles, password_policy: '', verify_connection: config.verifyConnection,
    root_credentials_rotate_statements: [],
    connection_details: {
      connection_url: config.connectionUrl.replace(/^([^:/]+:\/\/[^:@/]+:)(?!\{\{password\}\})[^@]+@/, '$1*****@'),
      username: config.username, max_open_connections: config.maxOpenConnections, disable_escaping: config.disableEscaping,
    },
  };
}

function describeRole(role: DbRole): Record<string, unknown> {
  return {
    db_name: role.dbName, creation_statements: role.creation, revocation_statements: role.revocation, rollback_statements: role.rollback,
    renew_statements: role.renew, default_ttl: role.defaultTtl, max_ttl: role.maxTtl, credential_type: 'password', credential_config: {},
  };
}
