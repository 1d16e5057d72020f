import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/access/grant.js';
import { newGrantId } from '../../src/access/ids.js';
import { SessionRegistry } from '../../src/session/registry.js';
import { Session, SessionEnded, describeEndReason } from '../../src/session/session.js';

function grant(): Grant {
  const now = new Date();
  return {
    id: newGrantId(), resource: 'r', role: 'readonly', requester: 'dev', reason: '', policy: 'p', state: 'active',
    endReason: null, ttlSeconds: 60, approvalsRequired: 0, approverGroups: [], createdAt: now, approvedAt: now,
    activatedAt: now, expiresAt: new Date(now.getTime() + 60_000), endedAt: null,
    verifiers: { scramSha256: '', sha256Double: '', sha1Double: '' }, decisions: [], version: 1,
  };
}

const open = (g: Grant, shutdown = new AbortController().signal): Session =>
  new Session({ grant: g, protocol: 'postgres', clientAddress: '127.0.0.1:5000', tls: false, program: null, shutdown });

describe('Session', () => {
  it('ends once, for the first reason', () => {
    const session = open(grant());
    const seen: unknown[] = [];
    session.signal.addEventListener('abort', () => seen.push(session.signal.reason));
    session.end({ kind: 'grant_expired' });
    session.end({ kind: 'client_closed' });
    expect(session.endReason).toEqual({ kind: 'grant_expired' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(SessionEnded);
  });

  it('follows server shutdown', () => {
    const shutdown = new AbortController();
    const session = open(grant(), shutdown.signal);
    expect(session.isEnded).toBe(false);
    shutdown.abort();
    expect(session.isEnded).toBe(true);
    expect(session.endReason).toEqual({ kind: 'shutdown' });
  });

  it('stops listening for shutdown once it ended, and starts ended after shutdown', () => {
    const shutdown = new AbortController();
    const sessions = [open(grant(), shutdown.signal), open(grant(), shutdown.signal), open(grant(), shutdown.signal)];
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(3);
    sessions[0]?.end({ kind: 'client_closed' });
    sessions[1]?.end({ kind: 'grant_revoked' });
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1);
    shutdown.abort();
    expect(sessions.map((session) => session.endReason?.kind)).toEqual(['client_closed', 'grant_revoked', 'shutdown']);
    expect(open(grant(), shutdown.signal).endReason).toEqual({ kind: 'shutdown' });
  });

  it('describes reasons for the session record', () => {
    expect(describeEndReason({ kind: 'protocol_error', detail: 'bad length' })).toBe('protocol_error: bad length');
    expect(describeEndReason({ kind: 'grant_revoked' })).toBe('grant_revoked');
  });
});

describe('SessionRegistry', () => {
  it('ends every session of a grant and waits for them to close', async () => {
    const registry = new SessionRegistry();
    const g = grant();
    const other = open(grant());
    const sessions = [open(g), open(g)];
    for (const session of [...sessions, other]) registry.add(session);
    for (const session of sessions) session.signal.addEventListener('abort', () => setTimeout(() => registry.remove(session), 20));
    const started = Date.now();
    const ended = await registry.endGrant(g.id, { kind: 'grant_expired' }, 2_000);
    expect(ended).toBe(2);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sessions.every((session) => session.isEnded)).toBe(true);
    expect(other.isEnded).toBe(false);
    expect(registry.sessionsOf(g.id)).toEqual([]);
    expect(registry.size).toBe(1);
  });

  it('gives up waiting after the timeout', async () => {
    const registry = new SessionRegistry();
    const g = grant();
    registry.add(open(g));
    const started = Date.now();
    await registry.endGrant(g.id, { kind: 'grant_revoked' }, 100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('maps minted cancel keys to the upstream key and forgets them with the session', () => {
    const registry = new SessionRegistry();
    const session = open(grant());
    registry.add(session);
    const upstream = { host: '127.0.0.1', port: 5432, processId: 4242, secretKey: 99 };
    const minted = registry.mintCancelKey(session, upstream);
    expect(minted).not.toEqual({ processId: 4242, secretKey: 99 });
    expect(registry.lookupCancel(minted.processId, minted.secretKey)).toEqual(upstream);
    expect(registry.lookupCancel(minted.processId, minted.secretKey ^ 1)).toBeUndefined();
    registry.remove(session);
    expect(registry.lookupCancel(minted.processId, minted.secretKey)).toBeUndefined();
  });

  it('mints process ids above Linux pid_max (2^22) and below 2^31, so they can name no real backend', () => {
    const registry = new SessionRegistry();
    const session = open(grant());
    registry.add(session);
    const upstream = { host: '127.0.0.1', port: 5432, processId: 4242, secretKey: 99 };
    const minted = Array.from({ length: 2000 }, () => registry.mintCancelKey(session, upstream));
    const pids = minted.map((key) => key.processId);
    expect(Math.min(...pids)).toBeGreaterThanOrEqual(4_194_304);
    expect(Math.max(...pids)).toBeLessThan(2_147_483_648);
    // Random, not a counter: 2000 draws from ~2^31 values repeat about once in a thousand runs (the birthday bound),
    // so allow a few repeats; a counter or a constant would still fail by far.
    expect(new Set(pids).size).toBeGreaterThan(1_990);
    expect(new Set(minted.map((key) => key.secretKey)).size).toBeGreaterThan(1_990);
    expect(minted.some((key) => key.secretKey < 0) && minted.some((key) => key.secretKey > 0)).toBe(true);
  });
});
