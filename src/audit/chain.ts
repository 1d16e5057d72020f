// The hash chain (DESIGN §6): each event's hash covers the previous hash and its own canonical body, so editing,
// deleting or reordering any stored event breaks every link after it. `verifyChain` names the first break.
import { hash } from 'node:crypto';
import type { AuditChainHead, StoredAuditEvent } from '../store/store.js';

/** The `prev` of event 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** hex SHA-256 over `prev` (its 64 ASCII hex characters) followed by the UTF-8 body. */
export function linkHash(prev: string, body: string): string {
  // One-shot hash of the concatenation: the same bytes as two updates (prev is ASCII), without a Hash object per event.
  return hash('sha256', prev + body, 'hex');
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
  const previousSeq = previous?.seq ?? 0;
  if (event.seq > previousSeq + 1) return `seq gap after ${previousSeq}`;
  if (event.seq <= previousSeq) return `seq ${event.seq} out of order after ${previousSeq}`;
  if (previous === undefined) {
    if (event.prev !== GENESIS_HASH) return 'prev of the first event is not the genesis hash';
  } else if (event.prev !== previous.hash) {
    return `prev does not match the hash of event ${previous.seq}`;
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
