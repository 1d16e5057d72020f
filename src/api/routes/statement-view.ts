// A stored statement event as review shows it (API, CLI, web UI, exports): the DESIGN §6 fields, read back from the
// canonical JSON body through a narrowing schema, plus where the event sits in the chain.
import { z } from 'zod';
import type { StoredAuditEvent } from '../../store/store.js';

const statementBody = z.object({
  seq: z.number().int(),
  kind: z.string(),
  sql: z.string(),
  params: z.array(z.string().nullable()).optional(),
  statement_name: z.string().optional(),
  portal: z.string().optional(),
  started: z.string(),
  duration_us: z.number(),
  rows: z.number().optional(),
  tag: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  bytes: z.number().optional(),
  truncated: z.object({ length: z.number(), sha256: z.string() }).optional(),
  undecoded: z.string().optional(),
});

export type StatementView = z.output<typeof statementBody> & {
  /** The event's position in the audit chain: the paging cursor (`after`, `before`) and the SSE event id. */
  readonly chainSeq: number;
  readonly id: string;
};

/** The statement fields of a stored event; an unreadable body still shows up (as kind `unreadable`), never vanishes. */
export function statementView(event: StoredAuditEvent): StatementView {
  let body: unknown;
  try {
    body = JSON.parse(event.body);
  } catch {
    body = undefined;
  }
  const parsed = statementBody.safeParse(body);
  const fields = parsed.success
    ? parsed.data
    : { seq: 0, kind: 'unreadable', sql: '', started: event.ts.toISOString(), duration_us: 0 };
  return { ...fields, chainSeq: event.seq, id: event.id };
}

/** Milliseconds from the session's start to the statement's, for timelines ("+1.234s"). */
export function offsetMs(statement: Pick<StatementView, 'started'>, sessionStartedAt: Date): number {
  const started = Date.parse(statement.started);
  return Number.isNaN(started) ? 0 : started - sessionStartedAt.getTime();
}
