// The two places an audit event must reach (DESIGN §6). The store sink runs first because it assigns the chain
// position (seq, prev, hash); the stream sink then writes exactly those stored records.
import type { PendingAuditEvent, StoredAuditEvent } from '../../store/store.js';

export type AuditDurability = 'os' | 'fsync';

/** Appends a batch to the chain in one transaction and returns the stored records in the same order. */
export interface AuditRecordSink {
  append(events: readonly PendingAuditEvent[]): Promise<StoredAuditEvent[]>;
  close(): Promise<void>;
}

/**
 * Writes stored (chained) records for shipping elsewhere (SIEM). Resolves once the OS has the bytes, and under `fsync` once
 * they are on disk. A retried batch may repeat events already written by an earlier failed attempt only when the
 * sink cannot tell: consumers can drop repeats by `chain.seq`.
 */
export interface AuditStreamSink {
  write(batch: readonly StoredAuditEvent[], durability: AuditDurability): Promise<void>;
  close(): Promise<void>;
}
