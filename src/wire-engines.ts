// Builds the wire engines' dependency objects from the composition root's parts, so engines see only the narrow
// interfaces of src/engines/*/deps.ts (STYLE: engines never import a concrete broker, sink or store).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Grant } from './access/grant.js';
import type { GrantService } from './access/grant-service.js';
import { isGrantId } from './access/ids.js';
import { SharedGrants } from './access/shared-grants.js';
import { sourceAddressCheck, type AddressCheck } from './access/source-address.js';
import type { AuditLog } from './audit/events.js';
import type { Config } from './config/schema.js';
import type { LeaseManager } from './credentials/lease-manager.js';
import type { MysqlEngineDeps } from './engines/mysql/deps.js';
import type { PostgresEngineDeps } from './engines/postgres/deps.js';
import { listenerSecureContext } from './net/tls.js';
import type { SessionRegistry } from './session/registry.js';
import type { GrantDirectory, LeaseSource, SessionCoreDeps } from './session/session-deps.js';
import type { Store } from './store/store.js';

export interface EngineParts {
  readonly config: Config;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly grants: GrantService;
  readonly leases: LeaseManager;
  readonly sessions: SessionRegistry;
  readonly logger: Logger;
  readonly shutdown: AbortSignal;
}

function grantDirectory(parts: EngineParts): GrantDirectory {
  const checks = new Map<string, AddressCheck>();
  for (const policy of parts.config.policies) checks.set(policy.name, sourceAddressCheck(policy.source_cidrs));
  const shared = new SharedGrants();
  return {
    lookup: async (id) => (isGrantId(id) ? shared.share(await parts.store.getGrant(id), id) : undefined),
    activate: async (grant: Grant) => { await parts.grants.activate(grant); },
    allowsAddress: (grant, address) => (checks.get(grant.policy) ?? (() => true))(address),
  };
}

function leaseSource(leases: LeaseManager): LeaseSource {
  return {
    acquire: (grant) => leases.acquire(grant),
    reissue: (grant, rejected) => leases.reissue(grant, rejected),
    released: (grant, remaining) => leases.release(grant, remaining),
  };
}

/** What both engines share: the grant, lease, audit and session collaborators, TLS and audit limits. */
function commonDeps(parts: EngineParts, engine: 'postgres' | 'mysql'): SessionCoreDeps {
  const { config } = parts;
  return {
    grants: grantDirectory(parts),
    leases: leaseSource(parts.leases),
    audit: parts.audit,
    sessions: parts.sessions,
    sessionRecords: parts.store,
    resources: (name: string) => config.resources.find((resource) => resource.name === name),
    logger: parts.logger.child({ engine }),
    shutdown: parts.shutdown,
    tls: { context: listenerSecureContext(config.tls), require: config.tls?.require ?? false },
    maxAuditSqlBytes: config.limits.max_audit_sql_bytes,
    parameters: config.audit.parameters,
    holdRepliesForAudit: config.audit.durability === 'fsync',
    // Per engine and per process: the mock verifiers of unknown grants must not be predictable across restarts.
    mockSecretKey: randomBytes(32),
    warnBeforeMs: config.grants.warn_before * 1000,
  };
}

export function postgresEngineDeps(parts: EngineParts): PostgresEngineDeps {
  return {
    ...commonDeps(parts, 'postgres'),
    maxMessageBytes: parts.config.limits.max_message_bytes,
  };
}

export function mysqlEngineDeps(parts: EngineParts): MysqlEngineDeps {
  return {
    ...commonDeps(parts, 'mysql'),
    mysqlResources: parts.config.resources.filter((resource) => resource.protocol === 'mysql'),
    maxPacketBytes: parts.config.limits.max_message_bytes,
  };
}
