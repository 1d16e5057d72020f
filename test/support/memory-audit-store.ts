// An in-memory stand-in for the audit half of the Store: chains as the real stores do (chainAfter inside one
// "transaction"), keeps rows in a plain array that tests may tamper with, and fails on request.
import { chainAfter } from '../../src/audit/chain.js';
import { assignmentOf, columnsOf, eventCount, pendingAt, type AuditBatchColumns, type ChainAssignment } from '../../src/audit/records.js';
import type { AuditChainHead, PendingAuditEvent, Store, StoredAuditEvent } from '../../src/store/store.js';

type AuditStore = Pick<Store, 'appendAuditEvents' | 'appendAuditColumns' | 'auditHead' | 'readAuditEvents'>;

/** Stored records as a stream sink takes them: the batch's columns and where they sit in the chain. */
export function chainedBatch(records: readonly StoredAuditEvent[]): [AuditBatchColumns, ChainAssignment] {
  return [columnsOf(records), assignmentOf(records)];
}

export class MemoryAuditStore implements AuditStore {
  /** Rows in chain order; mutable so tests can edit, delete or swap them. */
  rows: StoredAuditEvent[] = [];
  appendCalls = 0;
  readCalls = 0;
  /** Called at the start of every append with its 1-based number: lets a test look at its caller mid-retry. */
  onAppend: ((call: number) => void) | undefined;
  #failuresLeft = 0;
  #failAfterCommit = false;

  /** The next `count` appends throw; with `afterCommit` they store the rows first (a lost COMMIT acknowledgement). */
  failNextAppends(count: number, options: { afterCommit?: boolean } = {}): void {
    this.#failuresLeft = count;
    this.#failAfterCommit = options.afterCommit ?? false;
  }

  async appendAuditEvents(events: readonly PendingAuditEvent[]): Promise<StoredAuditEvent[]> {
    this.appendCalls++;
    this.onAppend?.(this.appendCalls);
    await Promise.resolve();
    const failing = this.#failuresLeft > 0;
    if (failing) this.#failuresLeft--;
    if (failing && !this.#failAfterCommit) throw Object.assign(new Error('store unavailable'), { code: 'SQLITE_BUSY' });
    const stored = chainAfter(await this.auditHead(), events);
    this.rows.push(...stored);
    if (failing) throw Object.assign(new Error('connection lost after commit'), { code: 'ECONNRESET' });
    return stored;
  }

  async appendAuditColumns(columns: AuditBatchColumns): Promise<ChainAssignment> {
    return assignmentOf(await this.appendAuditEvents(Array.from({ length: eventCount(columns) }, (_, index) => pendingAt(columns, index))));
  }

  async auditHead(): Promise<AuditChainHead | undefined> {
    const last = this.rows[this.rows.length - 1];
    return last === undefined ? undefined : { seq: last.seq, hash: last.hash };
  }

  async readAuditEvents(afterSeq: number, limit: number): Promise<StoredAuditEvent[]> {
    this.readCalls++;
    return this.rows.filter((row) => row.seq > afterSeq).slice(0, limit);
  }

  /** Rows of one event type, parsed: what a reviewer would query. */
  bodies(): Record<string, unknown>[] {
    return this.rows.map((row) => JSON.parse(row.body) as Record<string, unknown>);
  }
}
