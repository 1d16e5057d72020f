// Where appended audit events land in the chain: the one rule every store's append applies (DESIGN §6).
import { GENESIS_HASH, linkHash } from '../audit/chain.js';
import type { AuditChainHead, PendingAuditEvent, StoredAuditEvent } from './store.js';

/** The records `events` become after `head`: consecutive seqs, each prev the hash before it. */
export function chainAfter(head: AuditChainHead | undefined, events: readonly PendingAuditEvent[]): StoredAuditEvent[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS_HASH;
  return events.map((event): StoredAuditEvent => {
    seq += 1;
    const record = storedRecord(event, seq, prev, linkHash(prev, event.body));
    prev = record.hash;
    return record;
  });
}

/** The stored record of `event` at a chain position: exactly the stored fields, nothing the caller added. */
export function storedRecord(event: PendingAuditEvent, seq: number, prev: string, hash: string): StoredAuditEvent {
  const { id, ts, type, grantId, sessionId, actor, body } = event;
  return { seq, id, ts, type, grantId, sessionId, actor, body, prev, hash };
}

/** What an append that chained elsewhere (the SQLite worker) reports back: enough to rebuild the stored records. */
export interface ChainAssignment {
  readonly firstSeq: number;
  /** The prev of the first event. */
  readonly prev: string;
  readonly hashes: readonly string[];
}

/** The stored records of `events` from the positions an append assigned them. */
export function storedFromAssignment(events: readonly PendingAuditEvent[], assignment: ChainAssignment): StoredAuditEvent[] {
  let prev = assignment.prev;
  return events.map((event, index) => {
    const record = storedRecord(event, assignment.firstSeq + index, prev, assignment.hashes[index] ?? '');
    prev = record.hash;
    return record;
  });
}
