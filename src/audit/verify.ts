// Re-walks the stored chain page by page (`jitgate audit verify`, GET /v1/audit/verify): memory stays flat
// however long the trail is, and reading stops at the first break.
import type { StoredAuditEvent } from './records.js';
import type { AuditChainStore } from './sinks/store-sink.js';
import { verifyChain, type ChainVerification } from './chain.js';

export type { ChainBreak, ChainVerification } from './chain.js';

export interface VerifyStoredChainOptions {
  /** Events read per store call. */
  readonly batchSize: number;
}

export function verifyStoredChain(store: Pick<AuditChainStore, 'readAuditEvents'>, options: VerifyStoredChainOptions): Promise<ChainVerification> {
  return verifyChain(readWholeChain(store, Math.max(1, Math.floor(options.batchSize))));
}

async function* readWholeChain(store: Pick<AuditChainStore, 'readAuditEvents'>, batchSize: number): AsyncGenerator<StoredAuditEvent> {
  let afterSeq = 0;
  for (;;) {
    const page = await store.readAuditEvents(afterSeq, batchSize);
    yield* page;
    const last = page[page.length - 1];
    // A short page is the end; a page that does not move forward would page forever (verifyChain flags its order).
    if (last === undefined || page.length < batchSize || last.seq <= afterSeq) return;
    afterSeq = last.seq;
  }
}
