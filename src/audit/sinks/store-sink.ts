// The store sink: chains batches into the Store. An append that failed may still have committed (a PostgreSQL
// connection lost after COMMIT), so the retry first looks for the batch's ids instead of appending them twice.
import { assignmentOf, eventCount, idAt, type AuditBatchColumns, type AuditChainHead, type ChainAssignment, type StoredAuditEvent } from '../records.js';
import type { AuditRecordSink } from './sink.js';

/** What the audit trail needs of a store (src/store implements it): append a batch, read the chain back. */
export interface AuditChainStore {
  appendAuditColumns(columns: AuditBatchColumns): Promise<ChainAssignment>;
  auditHead(): Promise<AuditChainHead | undefined>;
  readAuditEvents(afterSeq: number, limit: number): Promise<StoredAuditEvent[]>;
}

const RECOVERY_PAGE_SIZE = 1_000;

export class StoreAuditSink implements AuditRecordSink {
  readonly #store: AuditChainStore;
  /** The highest seq known to be stored; events of an uncertain append can only sit after it. */
  #knownSeq: number | undefined;
  /** The last append threw: it may or may not have committed. */
  #uncertain = false;

  constructor(store: AuditChainStore) {
    this.#store = store;
  }

  async append(columns: AuditBatchColumns): Promise<ChainAssignment> {
    const count = eventCount(columns);
    if (count === 0) return { firstSeq: 0, prev: '', hashes: [] };
    this.#knownSeq ??= (await this.#store.auditHead())?.seq ?? 0;
    if (this.#uncertain) {
      const committed = await this.findCommitted(columns, this.#knownSeq);
      this.#uncertain = false;
      if (committed !== undefined) return this.remember(committed);
    }
    let stored: ChainAssignment;
    try {
      stored = await this.#store.appendAuditColumns(columns);
    } catch (error) {
      this.#uncertain = true;
      throw error;
    }
    if (stored.hashes.length !== count) {
      this.#uncertain = true;
      throw new Error(`store placed ${stored.hashes.length} of ${count} audit events`);
    }
    return this.remember(stored);
  }

  /** The store is shared with the rest of jitgate, which closes it; nothing of the sink's own to release. */
  async close(): Promise<void> {}

  private remember(stored: ChainAssignment): ChainAssignment {
    if (stored.hashes.length > 0) this.#knownSeq = stored.firstSeq + stored.hashes.length - 1;
    return stored;
  }

  /** Where an earlier attempt put the batch when it committed after all, undefined when it did not. */
  private async findCommitted(columns: AuditBatchColumns, afterSeq: number): Promise<ChainAssignment | undefined> {
    const ids = Array.from({ length: eventCount(columns) }, (_, index) => idAt(columns, index));
    const wanted = new Set(ids);
    const found = new Map<string, StoredAuditEvent>();
    let cursor = afterSeq;
    for (;;) {
      const page = await this.#store.readAuditEvents(cursor, RECOVERY_PAGE_SIZE);
      for (const record of page) if (wanted.has(record.id)) found.set(record.id, record);
      const last = page[page.length - 1];
      if (last === undefined || last.seq <= cursor || page.length < RECOVERY_PAGE_SIZE || found.size === wanted.size) break;
      cursor = last.seq;
    }
    if (found.size === 0) return undefined;
    if (found.size !== wanted.size) {
      // One transaction cannot half-commit; appending again would duplicate the half that is there.
      throw new Error(`audit batch found partially stored (${found.size} of ${wanted.size} events)`);
    }
    return assignmentOf(ids.map((id) => found.get(id)).filter((record) => record !== undefined));
  }
}
