// Holds jitgate's statement events against what PostgreSQL logged for the same sessions (issue 5, acceptance 2).
//
// The mapping, since the two do not count alike:
// - extended protocol: the server logs each Execute once (`execute <stmt>[/<portal>]: sql` + parameters) and jitgate
//   records each Execute once (kind bind_execute, with `portal`): one to one, compared on statement name, portal, SQL
//   text and parameters;
// - simple Query: the server logs the whole Query string once; jitgate records one event per statement in it. The
//   server line is matched by jitgate's consecutive simple events whose SQL texts, in order, make up the string
//   between separators (whitespace, `;`, comments); after a failed statement the server runs nothing more of the
//   string, so the match ends at an event with an error. A string with no statement in it (empty, only `;` or
//   comments) is matched by no event.
// - refused before running (kind `rejected` in pg-statement-log.ts: an ERROR whose statement was never logged as
//   run — a syntax error in a Query string, a failed Parse or Bind): one jitgate event with the same SQLSTATE whose
//   SQL is the statement at fault, i.e. the whole STATEMENT text or, for a multi-statement string, one statement of it;
// Sessions are paired by content: each server session with the jitgate session whose events match it exactly.
import type { LoggedSession, LoggedStatement } from './pg-statement-log.js';

export interface AuditStatement {
  readonly session: string;
  readonly seq: number;
  readonly kind: string;
  readonly sql: string;
  readonly params?: readonly (string | null)[];
  readonly statement_name?: string;
  readonly portal?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** How a parameter the server printed compares to the one jitgate recorded (see the test for why they may differ). */
export type ParamEquivalence = (logged: string, recorded: string) => boolean;

export interface SessionDiff {
  readonly missing: LoggedStatement[];
  readonly extra: AuditStatement[];
}

/** Skips what separates statements in a Query string: whitespace, semicolons, line and block comments. */
function skipSeparators(text: string, from: number): number {
  let pos = from;
  for (;;) {
    while (pos < text.length && (text[pos] === ';' || /\s/.test(text[pos] as string))) pos++;
    if (text.startsWith('--', pos)) {
      const end = text.indexOf('\n', pos);
      pos = end === -1 ? text.length : end + 1;
    } else if (text.startsWith('/*', pos)) {
      const end = text.indexOf('*/', pos + 2);
      pos = end === -1 ? text.length : end + 2;
    } else {
      return pos;
    }
  }
}

const isExtended = (event: AuditStatement): boolean => event.portal !== undefined;

/** Events [from, result) make up the simple Query `text`; undefined when they do not. */
function matchSimple(text: string, events: readonly AuditStatement[], from: number): number | undefined {
  let pos = skipSeparators(text, 0);
  let next = from;
  while (pos < text.length) {
    const event = events[next];
    if (event === undefined || isExtended(event) || event.sql === '' || !text.startsWith(event.sql, pos)) return undefined;
    pos = skipSeparators(text, pos + event.sql.length);
    next++;
    if (event.error !== undefined) return next;
  }
  return next;
}

function matchExtended(logged: Extract<LoggedStatement, { kind: 'extended' }>, events: readonly AuditStatement[], from: number,
  sameParam: ParamEquivalence): number | undefined {
  if (skipSeparators(logged.sql, 0) === logged.sql.length) return from; // an empty statement runs nothing
  const event = events[from];
  if (event === undefined || !isExtended(event)) return undefined;
  const statement = event.statement_name === '' ? '<unnamed>' : event.statement_name;
  const params = event.params ?? [];
  const paramsMatch = params.length === logged.params.length && params.every((value, index) => {
    const printed = logged.params[index];
    if (value === null || printed === null || printed === undefined) return value === printed;
    return value === printed || sameParam(printed, value);
  });
  return statement === logged.statement && event.portal === logged.portal && event.sql === logged.sql && paramsMatch ? from + 1 : undefined;
}

function matchRejected(logged: Extract<LoggedStatement, { kind: 'rejected' }>, events: readonly AuditStatement[], from: number): number | undefined {
  const event = events[from];
  if (event === undefined || event.error?.code !== logged.code || event.sql === '') return undefined;
  if (event.sql === logged.sql) return from + 1;
  // One statement of a multi-statement string: it must be a whole statement of it, between separators.
  const at = logged.sql.indexOf(event.sql);
  if (at === -1) return undefined;
  const before = logged.sql.slice(0, at).trimEnd();
  const after = logged.sql.slice(at + event.sql.length);
  const startsStatement = before === '' || before.endsWith(';');
  const endsStatement = skipSeparators(after, 0) === after.length || after.trimStart().startsWith(';');
  // The statement at fault is the one holding the error position (counted in characters, not UTF-16 units).
  const index = logged.position === undefined ? at : [...logged.sql].slice(0, logged.position - 1).join('').length;
  const holdsError = index >= at && index < at + event.sql.length;
  return startsStatement && endsStatement && holdsError ? from + 1 : undefined;
}

const LOOKAHEAD = 25;

/** Aligns one server session with one jitgate session; unmatched items on either side are reported. */
export function diffSession(logged: readonly LoggedStatement[], events: readonly AuditStatement[], sameParam: ParamEquivalence): SessionDiff {
  const missing: LoggedStatement[] = [];
  const extra: AuditStatement[] = [];
  const match = (statement: LoggedStatement, at: number): number | undefined => {
    switch (statement.kind) {
      case 'simple': return matchSimple(statement.sql, events, at);
      case 'extended': return matchExtended(statement, events, at, sameParam);
      case 'rejected': return matchRejected(statement, events, at);
    }
  };
  let next = 0;
  for (const statement of logged) {
    const at = match(statement, next);
    if (at !== undefined) {
      next = at;
      continue;
    }
    // Resynchronise: events recorded that the server never logged would show up as a gap before the match.
    let found: number | undefined;
    let skip = 1;
    for (; skip <= LOOKAHEAD && next + skip < events.length; skip++) {
      found = match(statement, next + skip);
      if (found !== undefined) break;
    }
    if (found === undefined) {
      missing.push(statement);
      continue;
    }
    extra.push(...events.slice(next, next + skip));
    next = found;
  }
  extra.push(...events.slice(next));
  return { missing, extra };
}

function startsLike(first: readonly LoggedStatement[], events: readonly AuditStatement[] | undefined, sameParam: ParamEquivalence): boolean {
  return events !== undefined && diffSession(first, events.slice(0, 50), sameParam).missing.length === 0;
}

export interface FidelityReport {
  readonly loggedSessions: number;
  readonly recordedSessions: number;
  readonly loggedLines: number;
  readonly recordedEvents: number;
  readonly missing: { readonly session: string; readonly statement: LoggedStatement }[];
  readonly extra: AuditStatement[];
}

/** Pairs every server session with a jitgate session and diffs each pair; unpaired sessions count whole. */
export function compareAudit(logged: readonly LoggedSession[], events: readonly AuditStatement[], sameParam: ParamEquivalence): FidelityReport {
  const bySession = new Map<string, AuditStatement[]>();
  for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
    const list = bySession.get(event.session) ?? [];
    list.push(event);
    bySession.set(event.session, list);
  }
  const unpaired = new Set(bySession.keys());
  const missing: { session: string; statement: LoggedStatement }[] = [];
  const extra: AuditStatement[] = [];
  for (const session of logged) {
    let best: { id: string; diff: SessionDiff } | undefined;
    // Sessions that begin like this one are tried first; the rest only to find the closest one for the report.
    const first = session.statements.slice(0, 1);
    const likely = new Set([...unpaired].filter((id) => startsLike(first, bySession.get(id), sameParam)));
    const candidates = [...likely, ...[...unpaired].filter((id) => !likely.has(id))];
    for (const id of candidates) {
      const diff = diffSession(session.statements, bySession.get(id) ?? [], sameParam);
      const size = diff.missing.length + diff.extra.length;
      if (best === undefined || size < best.diff.missing.length + best.diff.extra.length) best = { id, diff };
      if (size === 0) break;
    }
    if (best === undefined) {
      missing.push(...session.statements.map((statement) => ({ session: session.sessionId, statement })));
      continue;
    }
    unpaired.delete(best.id);
    missing.push(...best.diff.missing.map((statement) => ({ session: session.sessionId, statement })));
    extra.push(...best.diff.extra);
  }
  for (const id of unpaired) extra.push(...(bySession.get(id) ?? []));
  return {
    loggedSessions: logged.length, recordedSessions: bySession.size,
    loggedLines: logged.reduce((sum, session) => sum + session.statements.length, 0), recordedEvents: events.length,
    missing, extra,
  };
}
