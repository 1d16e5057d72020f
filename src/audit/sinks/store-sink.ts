// The store sink: chains batches into the Store. An append that failed may still have committed (a PostgreSQL
// connection lost after COMMIT), so the retry first looks for the batch's ids instead of appending them twice.
import type { PendingAuditEvent, StoredAuditEvent, Store } from '../../store/store.js';
import type { AuditRecordSink } from './sink.js';

export type AuditChainStore = Pick<Store, 'appendAuditEvents' | 'auditHead' | 'readAuditEvents'>;

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

  async append(events: readonly PendingAuditEvent[]): Promise<StoredAuditEvent[]> {
    if (events.length === 0) return [];
    this.#knownSeq ??= (await this.#store.auditHead())?.seq ?? 0;
    if (this.#uncertain) {
      const committed = await this.findCommitted(events, this.#knownSeq);
      this.#uncertain = false;
      if (committed !== undefined) return this.remember(committed);
    }
    let stored: StoredAuditEvent[];
    try {
      stored = await this.#store.appendAuditEvents(events);
    } catch (error) {
      this.#uncertain = true;
      throw error;
    }
    if (stored.length !== events.length) {
      this.#uncertain = true;
      throw new Error(`store returned ${stored.length} audit records for ${events.length} events`);
    }
    return this.remember(stored);
  }

  /** The store is shared with the rest of jitgate, which closes it; nothing of the sink's own to release. */
  async close(): Promise<void> {}

  private remember(stored: StoredAuditEvent[]): StoredAuditEvent[] {
    const last = stored[stored.length - 1];
    if (last !== undefined) this.#knownSeq = last.seq;
    return stored;
  }

  /** The stored records of `events` when an earlier attempt committed them, undefined when it did not. */
  private async findCommitted(events: readonly PendingAuditEvent[], afterSeq: number): Promise<StoredAuditEvent[] | undefined> {
    const wanted = new Set(events.map((event) => event.id));
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
    return events.map((event) => found.get(event.id)).filter((record) => record !== undefined);
  }
}
