// What the API shows of stored objects. Verifiers never leave the store; the token appears once, at creation.
import type { Grant } from '../access/grant.js';
import type { ResourceConfig } from '../config/schema.js';
import type { SessionRecord } from '../store/store.js';
import { urlHost, type HostPort } from '../net/address.js';

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());

export function grantView(grant: Grant) {
  return {
    id: grant.id,
    resource: grant.resource,
    role: grant.role,
    requester: grant.requester,
    reason: grant.reason,
    policy: grant.policy,
    state: grant.state,
    endReason: grant.endReason,
    ttlSeconds: grant.ttlSeconds,
    approvalsRequired: grant.approvalsRequired,
    approvals: grant.decisions.filter((d) => d.decision === 'approve').map((d) => ({ actor: d.actor, comment: d.comment, at: d.at.toISOString() })),
    denials: grant.decisions.filter((d) => d.decision === 'deny').map((d) => ({ actor: d.actor, comment: d.comment, at: d.at.toISOString() })),
    createdAt: grant.createdAt.toISOString(),
    approvedAt: iso(grant.approvedAt),
    activatedAt: iso(grant.activatedAt),
    expiresAt: grant.expiresAt.toISOString(),
    endedAt: iso(grant.endedAt),
  };
}

export interface ConnectionInfo {
  readonly protocol: 'postgres' | 'mysql';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly url: string;
}

/** Where a client points psql or mysql for this grant: jitgate's listener, user = grant id, password = token. */
export function connectionInfo(endpoint: HostPort, resource: ResourceConfig, grant: Grant, token: string): ConnectionInfo {
  const { host, port } = endpoint;
  const database = encodeURIComponent(resource.database);
  // Tokens are base64url, so they need no escaping inside a URL.
  const url = resource.protocol === 'postgres'
    ? `postgres://${grant.id}:${token}@${urlHost(host)}:${port}/${database}`
    : `mysql://${grant.id}:${token}@${urlHost(host)}:${port}/${database}`;
  return { protocol: resource.protocol, host, port, user: grant.id, password: token, database: resource.database, url };
}

export function sessionView(session: SessionRecord) {
  return {
    id: session.id,
    grant: session.grantId,
    resource: session.resource,
    role: session.role,
    user: session.user,
    protocol: session.protocol,
    client: session.clientAddress,
    program: session.clientProgram,
    tls: session.tls,
    startedAt: session.startedAt.toISOString(),
    endedAt: iso(session.endedAt),
    endReason: session.endReason,
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
    statements: session.statements,
  };
}
