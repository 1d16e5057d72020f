// The audit trail's record shapes (DESIGN §6), owned here; the stores persist them. A batch travels the write path as
// flat columns — per event id, ts (ms), type, grant, session, actor, body — from the audit log's queue through the
// store (and across to the SQLite worker) to the stream sink: no object per event on the way, only the body string
// every event needs anyway. The chain positions a store assigns come back as a ChainAssignment.

/** An audit record as stored: the chain fields plus the event body as canonical JSON. */
export interface StoredAuditEvent {
  /** 1-based position in the chain, assigned by the store. */
  readonly seq: number;
  readonly id: string;
  readonly ts: Date;
  readonly type: string;
  readonly grantId: string | null;
  readonly sessionId: string | null;
  readonly actor: string | null;
  /** Canonical JSON of the whole event without `prev`/`hash`: the bytes the hash covers. */
  readonly body: string;
  readonly prev: string;
  readonly hash: string;
}

/** An event ready to be chained: the store links it to the current head inside the append transaction. */
export interface PendingAuditEvent {
  readonly id: string;
  readonly ts: Date;
  readonly type: string;
  readonly grantId: string | null;
  readonly sessionId: string | null;
  readonly actor: string | null;
  readonly body: string;
}

export interface AuditChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Where a store put a batch in the chain: enough, with the batch, to rebuild the stored records. */
export interface ChainAssignment {
  readonly firstSeq: number;
  /** The prev of the first event. */
  readonly prev: string;
  readonly hashes: readonly string[];
}

/** A batch, flat: COLUMNS_PER_EVENT values per event, in the order of AuditColumn. */
export type AuditBatchColumns = (string | number | null)[];

export const COLUMNS_PER_EVENT = 7;

/** Where each value of an event sits in its row of AuditBatchColumns. */
export const AuditColumn = { id: 0, tsMs: 1, type: 2, grantId: 3, sessionId: 4, actor: 5, body: 6 } as const;

const text = (value: string | number | null | undefined): string => (typeof value === 'string' ? value : String(value));
const textOrNull = (value: string | number | null | undefined): string | null => (value === null || value === undefined ? null : text(value));

/** Appends one event's columns to `columns`. */
export function pushEventColumns(columns: AuditBatchColumns, id: string, tsMs: number, type: string, grantId: string | null,
  sessionId: string | null, actor: string | null, body: string): void {
  columns.push(id, tsMs, type, grantId, sessionId, actor, body);
}

export function columnsOf(events: readonly PendingAuditEvent[]): AuditBatchColumns {
  const columns: AuditBatchColumns = [];
  for (const event of events) pushEventColumns(columns, event.id, event.ts.getTime(), event.type, event.grantId, event.sessionId, event.actor, event.body);
  return columns;
}

export const eventCount = (columns: AuditBatchColumns): number => Math.floor(columns.length / COLUMNS_PER_EVENT);

/** The body of the `index`th event of a batch. */
export const bodyAt = (columns: AuditBatchColumns, index: number): string => text(columns[index * COLUMNS_PER_EVENT + AuditColumn.body]);

/** The id of the `index`th event of a batch. */
export const idAt = (columns: AuditBatchColumns, index: number): string => text(columns[index * COLUMNS_PER_EVENT + AuditColumn.id]);

/** The `index`th event of a batch, whole (for stores that write rows, and for tests). */
export function pendingAt(columns: AuditBatchColumns, index: number): PendingAuditEvent {
  const at = index * COLUMNS_PER_EVENT;
  return {
    id: text(columns[at]), ts: new Date(Number(columns[at + AuditColumn.tsMs])), type: text(columns[at + AuditColumn.type]),
    grantId: textOrNull(columns[at + AuditColumn.grantId]), sessionId: textOrNull(columns[at + AuditColumn.sessionId]),
    actor: textOrNull(columns[at + AuditColumn.actor]), body: text(columns[at + AuditColumn.body]),
  };
}

/** The stored records of a batch from the positions an append assigned it. */
export function storedFromAssignment(columns: AuditBatchColumns, assignment: ChainAssignment): StoredAuditEvent[] {
  const stored: StoredAuditEvent[] = [];
  let prev = assignment.prev;
  for (let index = 0; index < eventCount(columns); index++) {
    const hash = assignment.hashes[index] ?? '';
    stored.push({ ...pendingAt(columns, index), seq: assignment.firstSeq + index, prev, hash });
    prev = hash;
  }
  return stored;
}

/** A batch's assignment from its stored records (in chain order, consecutive): what a recovered append reports. */
export function assignmentOf(stored: readonly StoredAuditEvent[]): ChainAssignment {
  const first = stored[0];
  return { firstSeq: first?.seq ?? 0, prev: first?.prev ?? '', hashes: stored.map((record) => record.hash) };
}
