// The hash chain (DESIGN §6): each event's hash covers the previous hash and its own canonical body, so editing,
// deleting or reordering any stored event breaks every link after it. `verifyChain` names the first break.
import { hash } from 'node:crypto';
import { bodyAt, columnsOf, eventCount, storedFromAssignment, type AuditChainHead, type ChainAssignment, type PendingAuditEvent, type StoredAuditEvent } from './records.js';

/** The `prev` of event 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** hex SHA-256 over `prev` (its 64 ASCII hex characters) followed by the UTF-8 body. */
export function linkHash(prev: string, body: string): string {
  // One-shot hash of the concatenation: the same bytes as two updates (prev is ASCII), without a Hash object per event.
  return hash('sha256', prev + body, 'hex');
}

/** Where the next event goes after `head` (undefined: an empty chain) — the chain rule, in one place. */
export function nextLink(head: AuditChainHead | undefined): { readonly seq: number; readonly prev: string } {
  return { seq: (head?.seq ?? 0) + 1, prev: head?.hash ?? GENESIS_HASH };
}

/**
 * Chains `count` bodies after `head`: consecutive seqs, each event's prev the hash before it. Every store's append
 * applies it (in its transaction, after reading the head); `onLink` sees each event's place as it is made, so a store
 * can write the row right there.
 */
export function chainBatch(head: AuditChainHead | undefined, count: number, bodyOf: (index: number) => string,
  onLink?: (index: number, seq: number, prev: string, hash: string) => void): ChainAssignment {
  const first = nextLink(head);
  const hashes: string[] = [];
  let prev = first.prev;
  for (let index = 0; index < count; index++) {
    const hash = linkHash(prev, bodyOf(index));
    onLink?.(index, first.seq + index, prev, hash);
    hashes.push(hash);
    prev = hash;
  }
  return { firstSeq: first.seq, prev: first.prev, hashes };
}

/** The stored records `events` become after `head` (for stores that build records, and tests). */
export function chainAfter(head: AuditChainHead | undefined, events: readonly PendingAuditEvent[]): StoredAuditEvent[] {
  const columns = columnsOf(events);
  return storedFromAssignment(columns, chainBatch(head, eventCount(columns), (index) => bodyAt(columns, index)));
}

export interface ChainBreak {
  readonly seq: number;
  readonly id: string;
  readonly reason: string;
}

export interface ChainVerification {
  readonly ok: boolean;
  /** Events that verified intact, counted from seq 1 up to (not including) the first break. */
  readonly events: number;
  /** The last intact event; absent when there is none. */
  readonly head?: AuditChainHead;
  readonly firstBroken?: ChainBreak;
}

export async function verifyChain(
  events: AsyncIterable<StoredAuditEvent> | Iterable<StoredAuditEvent>,
): Promise<ChainVerification> {
  let verified = 0;
  let head: AuditChainHead | undefined;
  for await (const event of events) {
    const reason = findBreak(event, head);
    if (reason !== undefined) {
      const firstBroken = { seq: event.seq, id: event.id, reason };
      return head === undefined ? { ok: false, events: verified, firstBroken } : { ok: false, events: verified, head, firstBroken };
    }
    verified++;
    head = { seq: event.seq, hash: event.hash };
  }
  return head === undefined ? { ok: true, events: verified } : { ok: true, events: verified, head };
}

/** Why `event` cannot follow `previous` (undefined = it is the first one), or undefined when it links correctly. */
function findBreak(event: StoredAuditEvent, previous: AuditChainHead | undefined): string | undefined {
  const expected = nextLink(previous);
  const previousSeq = expected.seq - 1;
  if (event.seq > expected.seq) return `seq gap after ${previousSeq}`;
  if (event.seq < expected.seq) return `seq ${event.seq} out of order after ${previousSeq}`;
  if (event.prev !== expected.prev) {
    return previous === undefined ? 'prev of the first event is not the genesis hash' : `prev does not match the hash of event ${previous.seq}`;
  }
  if (linkHash(event.prev, event.body) !== event.hash) return 'hash mismatch: body or hash was altered';
  return findColumnMismatch(event);
}

/** The indexed columns are copies of body fields; an edit there would mislead queries without touching the hash. */
function findColumnMismatch(event: StoredAuditEvent): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(event.body);
  } catch {
    return 'body is not valid JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const fields = body as Record<string, unknown>;
  if (fields.id !== event.id) return 'column id does not match the body';
  if (fields.type !== event.type) return 'column type does not match the body';
  if (typeof fields.ts !== 'string' || Date.parse(fields.ts) !== event.ts.getTime()) return 'column ts does not match the body';
  if ((fields.grant ?? null) !== event.grantId) return 'column grant does not match the body';
  if ((fields.session ?? null) !== event.sessionId) return 'column session does not match the body';
  if ((fields.actor ?? null) !== event.actor) return 'column actor does not match the body';
  return undefined;
}
