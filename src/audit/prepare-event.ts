// From what a producer hands in to what the chain stores: id and ts filled, secrets redacted, body canonical.
import { newAuditEventId } from '../access/ids.js';
import type { PendingAuditEvent } from '../store/store.js';
import { canonicalJson, CanonicalJsonError } from './canonical.js';
import { isoAtMillis } from './iso-time.js';
import type { AuditEvent, AuditEventInput } from './events.js';
import { redactEvent, redactPasswordLiterals } from './redact.js';
import { orderedStatement, type StatementShape } from './statement-body.js';

export interface PreparedEvent {
  /** The redacted event the body was made from. */
  readonly event: AuditEvent;
  readonly pending: PendingAuditEvent;
  /** Set when the input could not be serialized and `event` is the alert recorded in its place. */
  readonly problem?: string;
}

export function prepareEvent(input: AuditEventInput): PreparedEvent {
  try {
    if (input.type === 'statement') {
      const prepared = prepareStatement(input);
      if (prepared !== undefined) return prepared;
    }
    const event = redactEvent(completeEvent(input));
    return { event, pending: toPending(event, canonicalJson(event)) };
  } catch (error) {
    // A producer bug (NaN duration, unparsable ts) must not vanish: the chain records that an event was lost.
    const problem = describeProblem(error);
    const event = unrecordableAlert(input, problem);
    return { event, pending: toPending(event, canonicalJson(event)), problem };
  }
}

/**
 * The per-statement fast path: a statement event's members are all known and none is secret-named, so redaction is
 * the SQL's password literals only, and the event is built once, in canonical order, for JSON.stringify. Anything off
 * that shape comes back undefined for the generic path.
 */
function prepareStatement(input: StatementShape): PreparedEvent | undefined {
  const now = instantOf(input.ts);
  const sql = typeof input.sql === 'string' ? redactPasswordLiterals(input.sql) : input.sql;
  const event = orderedStatement(input, input.id ?? newAuditEventId(now), isoAtMillis(now), sql);
  return event === undefined ? undefined : { event, pending: toPending(event, JSON.stringify(event), now) };
}

/** What went wrong, without the value: CanonicalJsonError names a path; other errors give code and message. */
export function describeProblem(error: unknown): string {
  if (error instanceof CanonicalJsonError) return error.message;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const text = code === undefined ? error.message : `${code}: ${error.message}`;
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  }
  return 'non-error thrown';
}

// Spreading a distributive Omit loses the link to its union member; adding id and ts back restores the event.
function completeEvent(input: AuditEventInput): AuditEvent {
  // One spelling per instant, so the body's ts and the ts column compare equal.
  if (input.ts !== undefined) return { ...input, id: input.id ?? newAuditEventId(), ts: isoAtMillis(instantOf(input.ts)) } as AuditEvent;
  const now = Date.now();
  // id and ts go before the spread: V8 copies `{ ...input }` fast but slows down when members follow it.
  return { id: input.id ?? newAuditEventId(now), ts: isoAtMillis(now), ...input } as AuditEvent;
}

/** The event's instant in ms: now when the producer gave no `ts`. */
function instantOf(ts: string | undefined): number {
  if (ts === undefined) return Date.now();
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) throw new CanonicalJsonError('$.ts', 'unparsable timestamp');
  return ms;
}

/** `ms`: the instant of `event.ts` when the caller has it, sparing a parse. */
function toPending(event: AuditEvent, body: string, ms = Date.parse(event.ts)): PendingAuditEvent {
  return {
    id: event.id, ts: new Date(ms), type: event.type,
    grantId: event.grant ?? null, sessionId: event.session ?? null, actor: event.actor ?? null, body,
  };
}

function unrecordableAlert(input: AuditEventInput, problem: string): AuditEvent {
  const context = {
    ...(typeof input.grant === 'string' ? { grant: input.grant } : {}),
    ...(typeof input.session === 'string' ? { session: input.session } : {}),
    ...(typeof input.actor === 'string' ? { actor: input.actor } : {}),
  };
  return {
    ...context, type: 'alert', id: newAuditEventId(), ts: new Date().toISOString(), severity: 'critical',
    message: `an audit event of type ${input.type} could not be recorded: ${problem}`,
  };
}
