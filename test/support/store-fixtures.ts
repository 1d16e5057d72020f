// Builders for store tests: grants, sessions and audit events with every field set and millisecond-precise times,
// plus the chain link the audit log uses (SHA-256 over prev || body), written here independently of src/audit.
import { createHash } from 'node:crypto';
import type { Grant } from '../../src/access/grant.js';
import { newAuditEventId, newGrantId, newSessionId, type GrantId } from '../../src/access/ids.js';
import type { LeaseRecord, PendingAuditEvent, SessionRecord, StoredAuditEvent } from '../../src/store/store.js';

/** A fixed instant with a non-zero millisecond part, so truncation to seconds would show. */
export const T0 = new Date('2031-05-06T07:08:09.123Z');
export const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);

export function makeGrant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: newGrantId(),
    resource: 'orders-pg',
    role: 'readonly',
    requester: 'dev',
    reason: 'investigate INC-42 — "quoted" & ünïcode',
    policy: 'dev-readonly',
    state: 'pending',
    endReason: null,
    ttlSeconds: 3_600,
    approvalsRequired: 1,
    approverGroups: ['dba', 'sre'],
    createdAt: at(0),
    approvedAt: null,
    activatedAt: null,
    expiresAt: at(600_000),
    endedAt: null,
    verifiers: {
      scramSha256: 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy',
      sha256Double: 'a'.repeat(64),
      sha1Double: 'b'.repeat(40),
    },
    decisions: [],
    version: 1,
    ...overrides,
  };
}

export function makeSession(grantId: GrantId, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: newSessionId(),
    grantId,
    resource: 'orders-pg',
    role: 'readonly',
    user: 'jg_readonly_abc',
    protocol: 'postgres',
    clientAddress: '127.0.0.1:50123',
    clientProgram: 'psql',
    tls: true,
    startedAt: at(1_000),
    endedAt: null,
    endReason: null,
    bytesIn: 0,
    bytesOut: 0,
    statements: 0,
    ...overrides,
  };
}

export function makeLease(grantId: GrantId, overrides: Partial<LeaseRecord> = {}): LeaseRecord {
  const username = `jg_readonly_${grantId.slice(2)}`;
  return {
    leaseId: `builtin/orders-pg/${username}`,
    grantId,
    resource: 'orders-pg',
    role: 'readonly',
    broker: 'builtin',
    username,
    expiresAt: at(660_000),
    state: 'active',
    attempts: 0,
    lastError: null,
    nextAttemptAt: null,
    createdAt: at(1_000),
    revokedAt: null,
    ...overrides,
  };
}

export function makeEvents(count: number, fields: Partial<PendingAuditEvent> = {}): PendingAuditEvent[] {
  return Array.from({ length: count }, (_, index) => {
    const id = newAuditEventId();
    const ts = at(index);
    const type = fields.type ?? 'statement';
    return {
      id, ts, type,
      grantId: null, sessionId: null, actor: null,
      body: JSON.stringify({ id, ts: ts.toISOString(), type, n: index }),
      ...fields,
    };
  });
}

export const sha256Link = (prev: string, body: string): string => createHash('sha256').update(prev).update(body).digest('hex');

/** Checks seq is 1..n without gaps and every prev is the hash before it (genesis: 64 zeros). */
export function chainProblems(events: readonly StoredAuditEvent[]): string[] {
  const problems: string[] = [];
  let prev = '0'.repeat(64);
  events.forEach((event, index) => {
    if (event.seq !== index + 1) problems.push(`event ${index} has seq ${event.seq}`);
    if (event.prev !== prev) problems.push(`seq ${event.seq}: prev does not match the hash before it`);
    if (event.hash !== sha256Link(event.prev, event.body)) problems.push(`seq ${event.seq}: hash does not cover prev||body`);
    prev = event.hash;
  });
  return problems;
}
