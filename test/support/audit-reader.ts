// Reads an in-process jitgate's audit trail back from its store, for tests that assert an event was recorded.
import type { JitgateHandle } from '../../src/main.js';

export type RecordedEvent = Readonly<Record<string, unknown>> & { readonly type: string; readonly seq: number };

/** Every event after `afterSeq`, flushed first, with its chain position. */
export async function auditEvents(handle: JitgateHandle, afterSeq = 0): Promise<RecordedEvent[]> {
  await handle.audit.flush();
  const out: RecordedEvent[] = [];
  for (let after = afterSeq; ;) {
    const page = await handle.store.readAuditEvents(after, 1_000);
    if (page.length === 0) return out;
    after = page.at(-1)?.seq ?? after;
    for (const stored of page) out.push({ ...(JSON.parse(stored.body) as Record<string, unknown>), type: stored.type, seq: stored.seq });
  }
}

/** The chain's last position now: events after it are the ones a test step caused. */
export async function auditHeadSeq(handle: JitgateHandle): Promise<number> {
  return (await auditEvents(handle)).at(-1)?.seq ?? 0;
}

/** Waits (bounded) for an event after `afterSeq` that `matches`. */
export async function waitForAudit(handle: JitgateHandle, afterSeq: number, matches: (event: RecordedEvent) => boolean,
  timeoutMs = 5_000): Promise<RecordedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await auditEvents(handle, afterSeq)).find(matches);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching audit event within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
