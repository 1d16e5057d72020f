// Composition root: config → store → audit → grants → API, and the process signals that end it all in order.
// Brokers, the lease manager and (later) engines are wired here too, so nothing below main.ts picks its own
// collaborators.
import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { GrantLifecycle } from './access/grant-lifecycle.js';
import { GrantService } from './access/grant-service.js';
import { ApiKeyDirectory, type GeneratedKey } from './access/identity.js';
import { openAuditLog } from './audit/create.js';
import type { AuditLog } from './audit/events.js';
import { auditProbe, brokerProbe, DependencyMonitor, storeProbe } from './api/health.js';
import { ApiMetrics } from './api/metrics.js';
import { buildApiServer } from './api/server.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import type { GrantId } from './access/ids.js';
import type { Broker, BrokerKind } from './credentials/broker.js';
import { BuiltinBroker } from './credentials/builtin/index.js';
import { newDeploymentId } from './credentials/deployment.js';
import { LeaseManager } from './credentials/lease-manager.js';
import { VaultBroker } from './credentials/vault/index.js';
import type { SweepReport } from './credentials/sweep.js';
import { createLogger } from './log.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { splitHostPort, type HostPort } from './net/address.js';
import { listen, type Listener } from './net/listener.js';
import { PostgresEngine } from './engines/postgres/engine.js';
import { SessionRegistry } from './session/registry.js';
import { MysqlEngine } from './engines/mysql/engine.js';
import { mysqlEngineDeps, postgresEngineDeps } from './wire-engines.js';

export interface JitgateHandle {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:7480 (the real port when the config asked for port 0). */
  readonly apiUrl: string;
  readonly store: Store;
  /** This deployment's id, kept in the store: its mark is in every database user it creates (issue 19). */
  readonly deployment: string;
  readonly audit: AuditLog;
  readonly grants: GrantService;
  readonly lifecycle: GrantLifecycle;
  /** Database users of grants: engines call `acquire` at a session's start (DESIGN §4). */
  readonly leases: LeaseManager;
  /** The start sweep's first pass (undefined with `credentials.sweep_on_start: false`); retries go on after it. */
  readonly sweep: Promise<SweepReport> | undefined;
  readonly sessions: SessionRegistry;
  /** Where clients connect for a protocol (the bound port when the config said 0). */
  readonly endpointFor: (protocol: 'postgres' | 'mysql') => HostPort;
  readonly generatedKeys: readonly GeneratedKey[];
  close(): Promise<void>;
}

/** How long a grant's end waits for its sessions to tell their clients and close before revoking the lease. */
const SESSION_CLOSE_WAIT_MS = 2_000;

export async function startJitgate(config: Config, logger: Logger = createLogger()): Promise<JitgateHandle> {
  const store = await openStore(config.store.url, { durableCommits: config.audit.durability === 'fsync' });
  // Made at the first start and kept: the sweep of another deployment on the same database servers tells our users by it.
  const deployment = await store.claimDeploymentId(newDeploymentId(), new Date()).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const audit = await openAuditLog(config.audit, store, logger).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const lifecycle = new GrantLifecycle({ store, audit, logger });
  const builtin = new BuiltinBroker({ resources: config.resources, logger, deployment });
  const vault = config.brokers.vault === undefined ? undefined
    : new VaultBroker({ config: config.brokers.vault, resources: config.resources, logger: logger.child({ broker: 'vault' }) });
  const brokers = (kind: BrokerKind): Broker | undefined => (kind === 'builtin' ? builtin : vault);
  // A lease that ends before its grant (Vault max_ttl, a dead Vault token): the grant ends first, with the reason audited.
  const endGrantEarly = async (grantId: GrantId, reason: string): Promise<void> => {
    const grant = await store.getGrant(grantId);
    if (grant === undefined) return;
    await audit.emit({ type: 'alert', severity: 'warning', grant: grantId, message: `grant ${grantId} ended early: ${reason}` });
    await lifecycle.end(grant, 'revoked', 'jitgate:lease-ends-early');
  };
  const leases = new LeaseManager({
    store, audit, logger, brokers, resources: config.resources, deployment, leaseMarginMs: config.credentials.lease_margin * 1000,
    endGrantEarly: (grantId, reason) => {
      endGrantEarly(grantId, reason).catch((error: unknown) => logger.error({ err: error, grant: grantId }, 'cannot end the grant early'));
    },
  });
  const sessions = new SessionRegistry();
  const shutdown = new AbortController();
  // Every live session listens for shutdown (src/session/session.ts): thousands of listeners are expected, not a leak.
  setMaxListeners(0, shutdown.signal);
  // DESIGN §4 order: the grant's sessions are told and closed first (steps 1–4), then the lease is revoked (5–6).
  lifecycle.onEnded(async (grant, reason) => {
    await sessions.endGrant(grant.id, { kind: reason === 'expired' ? 'grant_expired' : 'grant_revoked' }, SESSION_CLOSE_WAIT_MS);
    await leases.revokeForGrant(grant);
  });
  const grants = new GrantService({ config, store, audit, lifecycle });
  const authenticator = new ApiKeyDirectory(config.identities.api_keys);
  const listeners: Partial<Record<'postgres' | 'mysql', Listener>> = {};
  const endpointFor = (protocol: 'postgres' | 'mysql'): HostPort => {
    const bound = listeners[protocol]?.address;
    const configured = splitHostPort(protocol === 'postgres' ? config.listen.postgres : config.listen.mysql);
    return bound ? { host: configured.host, port: bound.port } : configured;
  };
  // Probed in the background with a timeout each: no HTTP answer waits on a dependency (a hung Vault included).
  const health = new DependencyMonitor([storeProbe(store), auditProbe(audit), ...(vault === undefined ? [] : [brokerProbe('vault', vault)])]);
  const app = buildApiServer({ config, store, audit, grants, authenticator, metrics: new ApiMetrics(store), logger, endpointFor, health, sessions });
  const engineParts = { config, store, audit, grants, leases, sessions, logger, shutdown: shutdown.signal };
  const postgres = new PostgresEngine(postgresEngineDeps(engineParts));
  const mysql = new MysqlEngine(mysqlEngineDeps(engineParts));

  lifecycle.start();
  health.start();
  const { host, port } = splitHostPort(config.listen.api);
  try {
    await app.listen({ host, port });
    listeners.postgres = await listen(config.listen.postgres, 'postgres', (socket) => postgres.handleConnection(socket), logger);
    await mysql.probe();
    listeners.mysql = await listen(config.listen.mysql, 'mysql', (socket) => mysql.handleConnection(socket), logger);
  } catch (error) {
    lifecycle.stop();
    health.stop();
    await app.close();
    await listeners.postgres?.close();
    await listeners.mysql?.close();
    await leases.close();
    await builtin.close();
    await vault?.close();
    await audit.close();
    await store.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const apiUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  // After listening, in the background: a resource that is down must not hold up the API (the sweep retries it).
  const sweep = config.credentials.sweep_on_start ? leases.sweep() : undefined;
  void vault?.start(longestVaultGrantSeconds(config));
  sweep?.catch((error: unknown) => logger.error({ err: error }, 'start sweep failed'));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      lifecycle.stop();
      health.stop();
      // Sessions end with 57P01 / ER_CONNECTION_KILLED before the listeners and the API go.
      shutdown.abort();
      await Promise.all([app.close(), listeners.postgres?.close(), listeners.mysql?.close()]);
      // Leases before the broker (attempts under way finish), both before the audit trail that records them. Each step
      // runs even when one before it failed: a store left open (its worker thread) would keep the process alive.
      const failures: unknown[] = [];
      for (const step of [() => leases.close(), () => builtin.close(), () => vault?.close(), () => audit.close(), () => store.close()]) {
        await Promise.resolve().then(step).catch((error: unknown) => failures.push(error));
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, failures.map(describeError).join('; '));
    })();
    return closing;
  };
  return { apiUrl, store, deployment, audit, grants, lifecycle, leases, sessions, sweep, endpointFor, generatedKeys: authenticator.generated, close };
}

/** The longest grant a vault-broker resource allows (role max_ttl) plus the lease margin: what the broker token must outlive. */
function longestVaultGrantSeconds(config: Config): number {
  const ttls = config.resources.filter((resource) => resource.broker === 'vault')
    .flatMap((resource) => Object.values(resource.roles).map((role) => role.max_ttl));
  return Math.max(0, ...ttls) + config.credentials.lease_margin;
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * `jitgate serve`: runs until SIGINT/SIGTERM, then closes listeners, flushes the audit trail and the store. Resolves
 * with the exit code: 1, with the reason on stderr, when serving could not start (config, port, store) or stop cleanly.
 */
export async function runServe(configPath: string): Promise<number> {
  const logger = createLogger();
  let config: Config;
  try {
    config = await loadConfigFile(configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  let handle: JitgateHandle;
  try {
    handle = await startJitgate(config, logger);
  } catch (error) {
    logger.error({ err: error }, 'cannot start');
    logger.flush();
    process.stderr.write(`jitgate: cannot start: ${describeError(error)}\n`);
    return 1;
  }
  for (const { name, key } of handle.generatedKeys) {
    // Printed once, to the terminal only: generated keys are never logged or stored.
    process.stderr.write(`jitgate: generated API key for "${name}" (valid until restart): ${key}\n`);
  }
  logger.info({ api: handle.apiUrl, store: handle.store.kind, resources: config.resources.map((r) => r.name) }, 'jitgate serving');
  const pg = handle.endpointFor('postgres');
  const my = handle.endpointFor('mysql');
  process.stderr.write(`jitgate: API listening on ${handle.apiUrl}, Postgres on ${pg.host}:${pg.port}, MySQL on ${my.host}:${my.port}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(received);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  logger.info({ signal }, 'shutting down');
  let exitCode = 0;
  try {
    await handle.close();
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.stderr.write(`jitgate: shutdown failed: ${describeError(error)}\n`);
    exitCode = 1;
  }
  logger.flush();
  return exitCode;
}
