// An in-process jitgate's audit trail read back from its store, for the MySQL suites: every event (flushed first),
// waiting for one that a test step causes, and each session's statement events in order.
import type { JitgateHandle } from '../../src/main.js';
import type { StatementEvent } from './mysql-audit-diff.js';

export type TrailEvent = Readonly<Record<string, unknown>> & { readonly type: string; readonly chainSeq: number };

export async function trailEvents(handle: JitgateHandle, afterChainSeq = 0): Promise<TrailEvent[]> {
  await handle.audit.flush();
  const out: TrailEvent[] = [];
  for (let after = afterChainSeq; ;) {
    const page = await handle.store.readAuditEvents(after, 1_000);
    if (page.length === 0) return out;
    after = page.at(-1)?.seq ?? after;
    for (const stored of page) out.push({ ...(JSON.parse(stored.body) as Record<string, unknown>), type: stored.type, chainSeq: stored.seq });
  }
}

export async function trailHead(handle: JitgateHandle): Promise<number> {
  return (await trailEvents(handle)).at(-1)?.chainSeq ?? 0;
}

/** The first event after `afterChainSeq` that `matches`, polling the store until `timeoutMs`. */
export async function waitForEvent(handle: JitgateHandle, afterChainSeq: number, matches: (event: TrailEvent) => boolean,
  timeoutMs = 5_000): Promise<TrailEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await trailEvents(handle, afterChainSeq)).find(matches);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching audit event within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface RecordedStatements {
  /** Lease users issued to the instance (credential.issued). */
  readonly leaseUsers: ReadonlySet<string>;
  /** Every session (session.started), with its statement events in seq order (possibly none). */
  readonly sessions: ReadonlyMap<string, StatementEvent[]>;
}

export async function recordedStatements(handle: JitgateHandle): Promise<RecordedStatements> {
  const leaseUsers = new Set<string>();
  const sessions = new Map<string, StatementEvent[]>();
  for (const event of await trailEvents(handle)) {
    if (event.type === 'credential.issued') leaseUsers.add(String(event.username));
    if (event.type === 'session.started' && !sessions.has(String(event.session))) sessions.set(String(event.session), []);
    if (event.type === 'statement') {
      const list = sessions.get(String(event.session)) ?? [];
      list.push(event as unknown as StatementEvent);
      sessions.set(String(event.session), list);
    }
  }
  for (const events of sessions.values()) events.sort((a, b) => a.seq - b.seq);
  return { leaseUsers, sessions };
}
