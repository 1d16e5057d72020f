// The two places an audit event must reach (DESIGN §6). The store sink runs first because it assigns the chain
// position (seq, prev, hash); the stream sink then writes exactly those records. Both take the batch as the audit log
// queued it (flat columns, audit/records.ts).
import type { AuditBatchColumns, ChainAssignment } from '../records.js';

export type AuditDurability = 'os' | 'fsync';

/** Appends a batch to the chain in one transaction and says where its events went. */
export interface AuditRecordSink {
  append(columns: AuditBatchColumns): Promise<ChainAssignment>;
  close(): Promise<void>;
}

/**
 * Writes chained records for shipping elsewhere (SIEM). Resolves once the OS has the bytes, and under `fsync` once
 * they are on disk. A retried batch may repeat events already written by an earlier failed attempt only when the
 * sink cannot tell: consumers can drop repeats by `chain.seq`.
 */
export interface AuditStreamSink {
  write(columns: AuditBatchColumns, assignment: ChainAssignment, durability: AuditDurability): Promise<void>;
  close(): Promise<void>;
}
