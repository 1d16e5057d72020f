// The vault broker (DESIGN §5, VAULT.md): lease users come from Vault's database secrets engine.
//   issue   = read <mount>/creds/<vault_role>; Vault gives the role's default_ttl, so the lease is renewed at once to
//             the grant's end; what Vault cuts (role max_ttl, a token that ends sooner) becomes `capReason`
//   renew   = sys/leases/renew with an integer increment counted from now
//   revoke  = sys/leases/revoke (sync), then the sessions Vault leaves connected are ended (admin credentials)
//   exists  = sys/leases/lookup, plus the database's own catalogs when the resource has admin credentials
import { Secret } from '../../audit/secret.js';
import { formatDuration } from '../../config/duration.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { Broker, BrokerHealth, IssueRequest, Lease, LeaseEndingNotice, LeaseRef, RevocationCheck } from '../broker.js';
import { createVaultClient, type VaultBrokerConfig, type VaultClient } from './client.js';
import { openLeaseDatabase, type LeaseDatabase } from './database.js';
import { describeVaultFailure, vaultMessage, vaultStatus, VaultBrokerError, type VaultOperation } from './errors.js';
import { credsResponse, healthResponse, isCapWarning, leaseLookupResponse, leaseRenewResponse, parseVault } from './responses.js';
import { VaultTokenKeeper, type VaultLogger } from './token.js';
import { isVaultUsername, vaultRolesOf } from './usernames.js';

export { VaultBrokerError, type VaultErrorCode } from './errors.js';
export type { VaultBrokerConfig } from './client.js';
export type { VaultLogger } from './token.js';

export interface VaultBrokerOptions {
  readonly config: VaultBrokerConfig;
  /** Where renew/revoke/exists find a lease's resource (leases carry only its name). */
  readonly resources: readonly ResourceConfig[] | ((name: string) => ResourceConfig | undefined);
  readonly logger: VaultLogger;
  /** Per Vault request (default 5 s). */
  readonly timeoutMs?: number;
  /** Admin connections for the database checks (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** How long revocation waits for the user's sessions to end (default 5 s). */
  readonly sessionDrainTimeoutMs?: number;
  /** Token renewal at this fraction of its TTL (default 2/3). */
  readonly renewFraction?: number;
  /** Between renewals, how often the token is looked up so a revoked one is noticed (default 60 s). */
  readonly tokenCheckIntervalMs?: number;
}

interface IssuedLease {
  readonly grantId: LeaseEndingNotice['grantId'];
  readonly generation: number;
  /** The minting token's end when it cannot be extended (undefined: kept alive by renewal). */
  readonly tokenEndsAt: Date | undefined;
}

interface RenewOutcome {
  readonly endMs: number;
  readonly capped: boolean;
}

export class VaultBroker implements Broker {
  readonly kind = 'vault' as const;
  readonly #config: VaultBrokerConfig;
  readonly #client: VaultClient;
  readonly #tokens: VaultTokenKeeper;
  readonly #logger: VaultLogger;
  readonly #findResource: (name: string) => ResourceConfig | undefined;
  readonly #options: VaultBrokerOptions;
  readonly #issued = new Map<string, IssuedLease>();
  readonly #databases = new Map<string, { readonly settings: string; readonly db: LeaseDatabase | undefined }>();
  readonly #listeners: ((notice: LeaseEndingNotice) => void)[] = [];
  #closed = false;

  constructor(options: VaultBrokerOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#logger = options.logger;
    const { resources } = options;
    this.#findResource = typeof resources === 'function' ? resources : (name) => resources.find((resource) => resource.name === name);
    this.#client = createVaultClient(options.config, options.timeoutMs);
    this.#tokens = new VaultTokenKeeper({ client: this.#client, config: options.config, logger: options.logger,
      ...(options.renewFraction === undefined ? {} : { renewFraction: options.renewFraction }),
      ...(options.tokenCheckIntervalMs === undefined ? {} : { checkIntervalMs: options.tokenCheckIntervalMs }) });
    this.#tokens.onTokenLost((generation, reason) => {
      const endsAt = new Date();
      for (const [leaseId, issued] of this.#issued) {
        if (issued.generation !== generation) continue;
        this.#notify({ leaseId, grantId: issued.grantId, endsAt, reason: `Vault revoked the lease with the broker token that minted it (${reason})` });
      }
    });
  }

  /** Logs in and warns when the token cannot outlive `longestGrantSeconds`; never throws (Vault may come later). */
  async start(longestGrantSeconds: number): Promise<void> {
    try {
      await this.#tokens.checkLifetime(longestGrantSeconds);
    } catch (error) {
      this.#logger.error({ error: error instanceof Error ? error.message : String(error) }, 'vault broker: cannot log in to Vault yet; will retry at first use');
    }
  }

  async issue(request: IssueRequest): Promise<Lease> {
    const { resource, role, grantId } = request;
    const vaultRole = this.#vaultRoleOf(resource, role);
    const path = `${this.#config.mount}/creds/${vaultRole}`;
    const wantedMs = request.expiresAt.getTime();
    const bound = await this.#guard('issue', path, `preparing the broker token for role "${vaultRole}"`, () => this.#tokens.coverUntil(wantedMs), vaultRole);
    const body: unknown = await this.#guard('issue', path, `reading database credentials for role "${vaultRole}"`, () => this.#tokens.call(() => this.#client.read(path)), vaultRole);
    const creds = parseVault(credsResponse, body, 'issue', `reading ${path}`);
    let endMs = Date.now() + creds.lease_duration * 1000;
    let cause = `Vault issued ${formatDuration(creds.lease_duration)}${creds.renewable ? '' : ' and the lease is not renewable'}`;
    // The role's default_ttl is rarely the grant's time: renew to exactly the wanted end (a renewal counts from now, so
    // it shortens too) — the user must neither outlive the grant by much nor vanish before it.
    if (creds.renewable && Math.abs(endMs - wantedMs) > 1_000) {
      try {
        const renewed = await this.#renewLease(creds.lease_id, wantedMs, 'issue');
        endMs = renewed.endMs;
        if (renewed.capped) cause = `Vault capped the lease at role "${vaultRole}"'s max_ttl`;
      } catch (error) {
        cause = `renewing it to the grant's end failed: ${error instanceof Error ? error.message : String(error)}`;
        if (endMs > wantedMs) this.#logger.warn({ grant: grantId, leaseId: creds.lease_id, reason: cause }, 'vault broker: the lease outlives the grant');
      }
    }
    if (bound.endsAt !== undefined && bound.endsAt.getTime() < endMs) {
      endMs = bound.endsAt.getTime();
      cause = "the broker's Vault token ends sooner (its token_max_ttl) and the lease dies with it";
    }
    const expiresAt = new Date(endMs);
    const capReason = endMs < wantedMs - 1_000 ? cause : undefined;
    if (capReason !== undefined) {
      this.#logger.warn({ grant: grantId, resource: resource.name, role, leaseId: creds.lease_id, expiresAt: expiresAt.toISOString(),
        wanted: request.expiresAt.toISOString(), reason: capReason }, 'vault broker: lease ends before the grant');
    }
    this.#issued.set(creds.lease_id, { grantId, generation: bound.generation, tokenEndsAt: bound.endsAt });
    return {
      leaseId: creds.lease_id, broker: 'vault', grantId, resource: resource.name, role, username: creds.data.username,
      password: new Secret(creds.data.password), expiresAt, ...(capReason === undefined ? {} : { capReason }),
    };
  }

  async renew(lease: LeaseRef, expiresAt: Date): Promise<Date> {
    this.#requireVaultLease(lease, 'renew');
    const { endMs, capped } = await this.#renewLease(lease.leaseId, expiresAt.getTime(), 'renew');
    const tokenEnd = this.#issued.get(lease.leaseId)?.tokenEndsAt?.getTime() ?? Infinity;
    const end = Math.min(endMs, tokenEnd);
    if (capped || end < expiresAt.getTime() - 1_000) {
      this.#logger.warn({ grant: lease.grantId, leaseId: lease.leaseId, expiresAt: new Date(end).toISOString(), wanted: expiresAt.toISOString() },
        'vault broker: renewal capped (role max_ttl or token end); the lease ends before the grant');
    }
    return new Date(end);
  }

  async revoke(lease: LeaseRef): Promise<void> {
    this.#requireVaultLease(lease, 'revoke');
    // Vault's revocation leaves sessions connected (VAULT.md §2), and the grant is over: with admin credentials the
    // broker ends them itself, before (while the name still resolves) and after Vault's revocation.
    const resource = this.#findResource(lease.resource);
    const db = resource === undefined ? undefined : this.#database(resource);
    let failure: unknown;
    const endSessions = async (): Promise<void> => {
      try {
        await db?.terminate(lease.username);
      } catch (error) {
        failure ??= error;
      }
    };
    await endSessions();
    try {
      await this.#guard('revoke', 'sys/leases/revoke', `revoking lease ${lease.leaseId}`,
        () => this.#tokens.call(() => this.#client.write('sys/leases/revoke', { lease_id: lease.leaseId, sync: true })));
    } catch (error) {
      // 202: accepted for asynchronous revocation (node-vault rejects every status but 200/204). exists() verifies.
      if (!(error instanceof VaultBrokerError && error.status === 202)) failure = error;
    }
    await endSessions();
    if (failure !== undefined) throw failure;
    this.#issued.delete(lease.leaseId);
  }

  async exists(lease: LeaseRef): Promise<RevocationCheck> {
    this.#requireVaultLease(lease, 'exists');
    let inVault = true;
    try {
      const body: unknown = await this.#tokens.call(() => this.#client.write('sys/leases/lookup', { lease_id: lease.leaseId }));
      parseVault(leaseLookupResponse, body, 'exists', 'sys/leases/lookup');
    } catch (error) {
      if (!(vaultStatus(error) === 400 && /invalid lease/.test(vaultMessage(error)))) {
        throw this.#failure('exists', 'sys/leases/lookup', `looking up lease ${lease.leaseId}`, error);
      }
      inVault = false;
    }
    const resource = this.#findResource(lease.resource);
    const db = resource === undefined ? undefined : this.#database(resource);
    const onDatabase = db === undefined ? { userExists: false, sessions: 0 } : await db.check(lease.username);
    return { userExists: inVault || onDatabase.userExists, sessions: onDatabase.sessions };
  }

  async listManagedUsers(resource: ResourceConfig): Promise<string[]> {
    if (resource.broker !== 'vault') return [];
    const db = this.#database(resource);
    if (db === undefined) return [];
    const roles = vaultRolesOf(resource);
    return (await db.listVaultUsers()).filter((username) => isVaultUsername(resource.protocol, roles, username));
  }

  async health(): Promise<BrokerHealth> {
    let answer;
    try {
      answer = parseVault(healthResponse, await this.#client.health(), 'health', 'sys/health');
    } catch (error) {
      const failure = this.#failure('health', 'sys/health', 'checking health', error);
      return { status: failure.code, detail: failure.message };
    }
    if (!answer.initialized) return { status: 'uninitialized', detail: `Vault at ${this.#config.address} is not initialized` };
    if (answer.sealed) return { status: 'sealed', detail: `Vault at ${this.#config.address} is sealed` };
    if (answer.standby) return { status: 'standby', detail: `Vault at ${this.#config.address} answers as a standby` };
    try {
      await this.#tokens.current(); // logs in when there is no usable token (AppRole)
    } catch (error) {
      const failure = this.#failure('health', 'auth/token/lookup-self', 'getting a broker token', error);
      return { status: failure.code, detail: failure.message };
    }
    return { status: 'ok', detail: `Vault ${answer.version ?? ''} at ${this.#config.address}`.replace('  ', ' ') };
  }

  onLeaseEnding(listener: (notice: LeaseEndingNotice) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#tokens.close();
    const closing = [...this.#databases.values()].flatMap(({ db }) => (db === undefined ? [] : [db.close()]));
    this.#databases.clear();
    await Promise.allSettled(closing);
  }

  async #renewLease(leaseId: string, endMs: number, operation: VaultOperation): Promise<RenewOutcome> {
    const increment = Math.max(1, Math.ceil((endMs - Date.now()) / 1000));
    const body: unknown = await this.#guard(operation, 'sys/leases/renew', `renewing lease ${leaseId}`,
      () => this.#tokens.call(() => this.#client.write('sys/leases/renew', { lease_id: leaseId, increment })));
    const answer = parseVault(leaseRenewResponse, body, operation, 'sys/leases/renew');
    return { endMs: Date.now() + answer.lease_duration * 1000, capped: answer.warnings.some(isCapWarning) || answer.lease_duration < increment - 1 };
  }

  async #guard<T>(operation: VaultOperation, path: string, doing: string, call: () => Promise<T>, role?: string): Promise<T> {
    if (this.#closed) throw new VaultBrokerError('not_configured', operation, 'the broker is closed');
    try {
      return await call();
    } catch (error) {
      throw this.#failure(operation, path, doing, error, role);
    }
  }

  #failure(operation: VaultOperation, path: string, doing: string, error: unknown, role?: string): VaultBrokerError {
    return describeVaultFailure({ operation, address: this.#config.address, path, doing, mount: this.#config.mount,
      secrets: this.#tokens.secrets(), ...(role === undefined ? {} : { role }) }, error);
  }

  #vaultRoleOf(resource: ResourceConfig, role: string): string {
    if (resource.broker !== 'vault') throw new VaultBrokerError('not_configured', 'issue', `resource "${resource.name}" uses the ${resource.broker} broker`);
    const vaultRole = resource.roles[role]?.vault_role;
    if (vaultRole === undefined) throw new VaultBrokerError('not_configured', 'issue', `resource "${resource.name}" role "${role}" has no vault_role`);
    return vaultRole;
  }

  #requireVaultLease(lease: LeaseRef, operation: VaultOperation): void {
    if (lease.broker !== 'vault') throw new VaultBrokerError('not_configured', operation, `got a ${lease.broker} lease`);
  }

  /** The admin connection of a resource with admin credentials; re-made when its settings change (config reload). */
  #database(resource: ResourceConfig): LeaseDatabase | undefined {
    const settings = JSON.stringify([resource.protocol, resource.host, resource.port, resource.database, resource.admin, resource.tls]);
    const existing = this.#databases.get(resource.name);
    if (existing?.settings === settings) return existing.db;
    void existing?.db?.close().catch(() => {});
    const db = openLeaseDatabase(resource, {
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 5_000,
      drainTimeoutMs: this.#options.sessionDrainTimeoutMs ?? 5_000,
      onIdleError: (error) => this.#logger.warn({ error: error.message }, 'vault broker: idle admin connection failed'),
    });
    this.#databases.set(resource.name, { settings, db });
    return db;
  }

  #notify(notice: LeaseEndingNotice): void {
    for (const listener of this.#listeners) listener(notice);
  }
}
