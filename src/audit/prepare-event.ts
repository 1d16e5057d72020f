// From what a producer hands in to what the chain stores: id and ts filled, secrets redacted, body canonical.
import { newAuditEventId } from '../access/ids.js';
import type { PendingAuditEvent } from './records.js';
import { canonicalJson, CanonicalJsonError } from './canonical.js';
import { isoAtMillis } from './iso-time.js';
import type { AuditEvent, AuditEventInput } from './events.js';
import { redactEvent } from './redact.js';

export interface PreparedEvent {
  /** The redacted event the body was made from. */
  readonly event: AuditEvent;
  readonly pending: PendingAuditEvent;
  /** Set when the input could not be serialized and `event` is the alert recorded in its place. */
  readonly problem?: string;
}

/**
 * The generic path: every event but the audited statements of live sessions, which the session's recorder builds in
 * canonical form itself (statement-recorder.ts → AuditLog.appendStatement). A statement event handed in here (an
 * import, a test) is treated like any other: completed, every secret-named member and password literal redacted.
 */
export function prepareEvent(input: AuditEventInput): PreparedEvent {
  try {
    const event = redactEvent(completeEvent(input));
    return { event, pending: toPending(event, canonicalJson(event)) };
  } catch (error) {
    // A producer bug (NaN duration, unparsable ts) must not vanish: the chain records that an event was lost.
    const problem = describeProblem(error);
    const event = unrecordableAlert(input, problem);
    return { event, pending: toPending(event, canonicalJson(event)), problem };
  }
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
