// The builtin broker (DESIGN §5): jitgate creates and drops lease users itself, with each resource's admin
// credentials and the role's Vault-style statement templates. This file owns naming, passwords and the choice of
// engine; postgres.ts and mysql.ts own the SQL. Nothing here logs: errors carry no password and no SQL text.
import type { ResourceConfig } from '../../config/schema.js';
import type { Broker, IssueRequest, Lease, LeaseRef, RevocationCheck } from '../broker.js';
import { deploymentMark } from '../deployment.js';
import type { EngineAdmin, EngineAdminOptions, LeaseUserRef } from './admin.js';
import { BuiltinBrokerError, type BuiltinOperation } from './errors.js';
import { builtinLeaseId, generatePassword, isLeaseUsername, leaseUsername } from './lease-user.js';
import { MysqlAdmin } from './mysql.js';
import { PostgresAdmin } from './postgres.js';
import { ceilToSecond, validateRole } from './templates.js';

export { BuiltinBrokerError } from './errors.js';
export { grantSuffixOfUsername, leaseUsername } from './lease-user.js';
export { validateRoleTemplates, type TemplateProblem } from './templates.js';

/** The minimal logger the broker needs; a pino Logger fits. */
export interface BrokerLogger {
  warn(fields: object, message: string): void;
}

export interface BuiltinBrokerOptions {
  /**
   * Where renew/revoke/exists find a lease's resource: leases carry only its name. A function lets a config
   * reload hand in the new resources; a resource whose connection settings changed gets a new admin pool.
   */
  readonly resources: readonly ResourceConfig[] | ((name: string) => ResourceConfig | undefined);
  /** This deployment's id (Store.claimDeploymentId): its mark goes into every user name, so no other sweep takes it. */
  readonly deployment: string;
  /** Admin connections per resource (default 2): lease churn is rare next to queries. */
  readonly poolSize?: number;
  /** Default 5 s: a down server should fail fast so the lease manager's retry takes over. */
  readonly connectTimeoutMs?: number;
  /** Default 30 s, per statement (GRANT … ON ALL TABLES on a large schema takes a while). */
  readonly statementTimeoutMs?: number;
  /** Default 5 s: how long revocation waits for terminated sessions to disappear. */
  readonly sessionDrainTimeoutMs?: number;
  readonly logger?: BrokerLogger;
}

interface AdminEntry {
  /** The connection settings the pool was made with; contains the admin password, so it is never printed. */
  readonly settings: string;
  readonly admin: EngineAdmin;
}

const connectionSettings = (resource: ResourceConfig): string =>
  JSON.stringify([resource.protocol, resource.host, resource.port, resource.database, resource.admin, resource.tls]);

export class BuiltinBroker implements Broker {
  readonly kind = 'builtin' as const;
  readonly #findResource: (name: string) => ResourceConfig | undefined;
  readonly #engineOptions: EngineAdminOptions;
  readonly #mark: string;
  readonly #admins = new Map<string, AdminEntry>();
  /** Pools of superseded settings, closing (in-flight calls on them finish first). */
  readonly #retiring = new Set<Promise<void>>();
  #closed = false;

  constructor(options: BuiltinBrokerOptions) {
    const { resources } = options;
    this.#findResource = typeof resources === 'function' ? resources : (name) => resources.find((resource) => resource.name === name);
    this.#mark = deploymentMark(options.deployment);
    const logger = options.logger;
    this.#engineOptions = {
      poolSize: options.poolSize ?? 2,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      statementTimeoutMs: options.statementTimeoutMs ?? 30_000,
      sessionDrainTimeoutMs: options.sessionDrainTimeoutMs ?? 5_000,
      // Only the message: a driver error object can carry connection settings.
      onIdleError: (error) => logger?.warn({ error: error.message }, 'builtin broker: idle admin connection failed'),
    };
  }

  async issue(request: IssueRequest): Promise<Lease> {
    const { resource, role, grantId } = request;
    const roleConfig = resource.roles[role];
    if (roleConfig === undefined) throw new BuiltinBrokerError('issue', resource.name, `has no role "${role}"`);
    const problems = validateRole(resource, role, roleConfig);
    if (problems.length > 0) throw new BuiltinBrokerError('issue', resource.name, `role "${role}" has bad templates: ${problems.map((problem) => problem.message).join('; ')}`);
    const username = leaseUsername(resource.protocol, role, grantId, this.#mark);
    const password = generatePassword();
    const expiresAt = ceilToSecond(request.expiresAt);
    await this.#adminFor(resource, 'issue').createUser({ role, roleConfig, username, password, expiresAt });
    return { leaseId: builtinLeaseId(resource.name, username), broker: 'builtin', grantId, resource: resource.name, role, username, password, expiresAt };
  }

  async renew(lease: LeaseRef, expiresAt: Date): Promise<Date> {
    const { admin, user } = this.#forLease(lease, 'renew');
    const end = ceilToSecond(expiresAt);
    await admin.extendUser(user, end);
    return end;
  }

  async revoke(lease: LeaseRef): Promise<void> {
    const { admin, user } = this.#forLease(lease, 'revoke');
    await admin.dropUser(user);
  }

  async exists(lease: LeaseRef): Promise<RevocationCheck> {
    const { admin, user } = this.#forLease(lease, 'exists');
    return admin.checkUser(user.username);
  }

  async listManagedUsers(resource: ResourceConfig): Promise<string[]> {
    return this.#adminFor(resource, 'list').listManagedUsers();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const admins = [...this.#admins.values()].map((entry) => entry.admin.close());
    this.#admins.clear();
    await Promise.allSettled([...admins, ...this.#retiring]);
  }

  #forLease(lease: LeaseRef, operation: BuiltinOperation): { admin: EngineAdmin; user: LeaseUserRef } {
    if (lease.broker !== 'builtin') throw new BuiltinBrokerError(operation, lease.resource, `got a ${lease.broker} lease`);
    // A lease ref comes back from the store: only a name jitgate could have made is ever put into SQL.
    if (!isLeaseUsername(lease.username)) throw new BuiltinBrokerError(operation, lease.resource, `refuses user "${lease.username}": not a jitgate lease user`);
    const resource = this.#findResource(lease.resource);
    if (resource === undefined) throw new BuiltinBrokerError(operation, lease.resource, 'is not in the config (leases must be revoked before a resource is removed)');
    return { admin: this.#adminFor(resource, operation), user: { role: lease.role, roleConfig: resource.roles[lease.role], username: lease.username } };
  }

  #adminFor(resource: ResourceConfig, operation: BuiltinOperation): EngineAdmin {
    if (this.#closed) throw new BuiltinBrokerError(operation, resource.name, 'refused: the broker is closed');
    if (resource.broker !== 'builtin') throw new BuiltinBrokerError(operation, resource.name, `uses the ${resource.broker} broker`);
    const settings = connectionSettings(resource);
    const existing = this.#admins.get(resource.name);
    if (existing !== undefined && existing.settings === settings) return existing.admin;
    if (existing !== undefined) {
      const closing: Promise<void> = existing.admin.close().catch(() => {}).finally(() => this.#retiring.delete(closing));
      this.#retiring.add(closing);
    }
    const admin = resource.protocol === 'postgres' ? new PostgresAdmin(resource, this.#engineOptions) : new MysqlAdmin(resource, this.#engineOptions);
    this.#admins.set(resource.name, { settings, admin });
    return admin;
  }
}
