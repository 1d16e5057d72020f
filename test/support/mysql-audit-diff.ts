// The audit fidelity diff for MySQL (issue 6, acceptance 2): what MariaDB's general log says each lease-user connection
// ran, against the `statement` events jitgate recorded for its sessions. The mapping, one log entry at a time:
// - `Query` (one COM_QUERY) ↔ the run of `query` events jitgate recorded for it, one per result. Their SQL texts
//   must tile the logged text in order: each event's text is the next statement of it (only whitespace and `;`
//   between), a CALL may answer with several results (its result sets, then its OK), and the run may stop early
//   only at an error (the server stops a multi-statement batch at its first error).
// - `Prepare` ↔ a `stmt_prepare` event with the same text. The server logs a Prepare only once it succeeded, so a
//   `stmt_prepare` event with an error has no entry: it is counted apart ("prepare errors") and must carry the error.
// - `Execute` ↔ a `stmt_execute` event: the entry must be the event's prepared text with each `?` replaced by a
//   literal, and each literal the value jitgate recorded for that parameter (mysql-execute-literals.ts).
// - `Init DB` ↔ an `init_db` event whose text is USE `<that database>`.
// - A KILL by connection id reaches the server naming its own thread id, while the client (and the event) named the
//   id jitgate advertised (src/engines/mysql/kill-statement.ts): a logged `KILL … <id>` matches a `query` event of
//   the same KILL form whatever its id. A KILL jitgate answered itself (ERR 1094, an id of no session of the grant)
//   never reaches the server: such events are counted apart ("answered kills").
// Other entries (Connect, Quit, Close stmt, Ping, …) are not statements; jitgate records no events for them.
// Sessions and threads are paired by content (jitgate does not record the upstream thread id): each session with
// the unpaired thread whose entries it matches furthest. Then every entry either matches the next events (in order)
// or is missing; every event is matched or extra.
import { executeLiterals, literalMatches } from './mysql-execute-literals.js';
import type { GeneralLogEntry } from './mysql-general-log.js';

export interface StatementEvent {
  readonly session: string;
  readonly seq: number;
  readonly kind: string;
  readonly sql: string;
  readonly params?: readonly (string | null)[];
  readonly tag?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly truncated?: unknown;
}

export const COMPARED_COMMANDS: ReadonlySet<string> = new Set(['Query', 'Prepare', 'Execute', 'Init DB']);

export interface Mismatch {
  readonly session: string | null;
  /** The server session: `<thread id>#<n>`, the n-th since the connection opened or jitgate last reset it. */
  readonly serverSession: string | null;
  readonly what: 'missing' | 'extra';
  readonly text: string;
  readonly why: string;
}

export interface AuditDiff {
  readonly logEntries: number;
  readonly events: number;
  readonly matchedEntries: number;
  readonly matchedEvents: number;
  /** Failed COM_STMT_PREPAREs: events with an error that the server does not log. */
  readonly prepareErrors: number;
  /** KILLs jitgate answered with ERR 1094 itself: events with no log entry. */
  readonly answeredKills: number;
  readonly sessions: number;
  readonly threads: number;
  readonly missing: readonly Mismatch[];
  readonly extra: readonly Mismatch[];
}

const SEPARATOR = /^[\s;]*/;
const CALL = /^call\b/i;
/** The KILL-by-id texts the client scenarios send: comments before, `;` after. */
const KILL_BY_ID = /^\s*(?:\/\*.*?\*\/\s*)*kill\s+(?:(hard|soft)\s+)?(?:(connection|query)\s+)?\d+\s*;?\s*$/is;

/** `modifier scope` of a KILL by connection id (CONNECTION when unwritten), or undefined. */
function killForm(text: string): string | undefined {
  const match = KILL_BY_ID.exec(text);
  return match === null ? undefined : `${(match[1] ?? '').toLowerCase()} ${(match[2] ?? 'connection').toLowerCase()}`;
}

const isAnsweredKill = (event: StatementEvent | undefined): boolean =>
  event?.kind === 'query' && event.error?.code === '1094' && killForm(event.sql) !== undefined;

/** Events of the one COM_QUERY logged as `text`, starting at `from`: how many, or a reason none fit. */
function queryRun(text: string, events: readonly StatementEvent[], from: number): number | string {
  let pos = 0;
  let count = 0;
  let previous: StatementEvent | undefined;
  for (let index = from; index < events.length; index++) {
    const event = events[index] as StatementEvent;
    if (event.kind !== 'query' || event.truncated !== undefined) break;
    // More results of the same CALL: its result sets come before the OK that ends it.
    if (previous !== undefined && event.sql === previous.sql && CALL.test(previous.sql) && previous.tag === 'RESULT SET') {
      previous = event;
      count++;
      continue;
    }
    if (previous?.error !== undefined) break;
    const at = pos + (SEPARATOR.exec(text.slice(pos))?.[0].length ?? 0);
    if (at >= text.length || event.sql === '' || !text.startsWith(event.sql, at)) break;
    pos = at + event.sql.length;
    previous = event;
    count++;
  }
  if (count === 0) return 'no query event whose text starts the logged text';
  const rest = text.slice(pos).replace(SEPARATOR, '');
  if (rest !== '' && previous?.error === undefined) return `the events cover the text only up to «${rest.slice(0, 60)}»`;
  return count;
}

/** Events matched by one compared log entry at `from`, or why it does not match there. */
function entryMatch(entry: GeneralLogEntry, events: readonly StatementEvent[], from: number): number | string {
  const event = events[from];
  if (event === undefined) return 'no event left';
  const text = entry.argument.toString('utf8');
  switch (entry.command) {
    case 'Query': {
      const kill = killForm(text);
      if (kill !== undefined && event.kind === 'query' && event.error === undefined && killForm(event.sql) === kill) return 1;
      return queryRun(text, events, from);
    }
    case 'Prepare':
      return event.kind === 'stmt_prepare' && event.error === undefined && event.sql === text ? 1 : 'not this stmt_prepare';
    case 'Init DB':
      return event.kind === 'init_db' && event.sql === `USE \`${text.replace(/`/g, '``')}\`` ? 1 : 'not this init_db';
    case 'Execute': {
      if (event.kind !== 'stmt_execute') return 'not a stmt_execute';
      const literals = executeLiterals(entry.argument, event.sql);
      if (typeof literals === 'string') return literals;
      const params = event.params ?? [];
      if (literals.length !== params.length) return `${literals.length} values logged, ${params.length} recorded`;
      const wrong = literals.findIndex((literal, index) => !literalMatches(literal, params[index] ?? null));
      return wrong === -1 ? 1 : `parameter ${wrong + 1} differs (recorded ${JSON.stringify(params[wrong])?.slice(0, 80)})`;
    }
    default: return `not compared: ${entry.command}`;
  }
}

const isPrepareError = (event: StatementEvent | undefined): boolean => event?.kind === 'stmt_prepare' && event.error !== undefined;

interface Alignment {
  matchedEntries: number;
  matchedEvents: number;
  prepareErrors: number;
  answeredKills: number;
  readonly missing: Mismatch[];
  readonly extra: Mismatch[];
  /** Entries matched before the first mismatch: how well this thread fits this session. */
  prefix: number;
}

function align(session: string | null, serverSession: string | null, entries: readonly GeneralLogEntry[],
  events: readonly StatementEvent[], stopAtFirstMismatch: boolean): Alignment {
  const out: Alignment = { matchedEntries: 0, matchedEvents: 0, prepareErrors: 0, answeredKills: 0, missing: [], extra: [], prefix: 0 };
  let clean = true;
  let e = 0;
  let v = 0;
  const skipPrepareErrors = (): void => {
    for (;;) {
      if (isPrepareError(events[v])) out.prepareErrors++;
      else if (isAnsweredKill(events[v])) out.answeredKills++;
      else break;
      v++;
    }
  };
  for (skipPrepareErrors(); e < entries.length || v < events.length; skipPrepareErrors()) {
    const entry = entries[e];
    const matched = entry === undefined ? 'no entry left' : entryMatch(entry, events, v);
    if (typeof matched === 'number') {
      out.matchedEntries++;
      out.matchedEvents += matched;
      if (clean) out.prefix++;
      e++;
      v += matched;
      continue;
    }
    clean = false;
    if (stopAtFirstMismatch) break;
    // Resynchronise: drop the entry if the event fits the next one, else drop the event.
    const next = entries[e + 1];
    const eventFitsLater = next !== undefined && typeof entryMatch(next, events, v) === 'number';
    if (entry !== undefined && (events[v] === undefined || eventFitsLater)) {
      out.missing.push({ session, serverSession, what: 'missing', text: `${entry.command}: ${entry.argument.toString('utf8', 0, 160)}`, why: matched });
      e++;
    } else {
      const event = events[v] as StatementEvent;
      out.extra.push({ session, serverSession, what: 'extra', text: `${event.kind} #${event.seq}: ${event.sql.slice(0, 160)}`, why: matched });
      v++;
    }
  }
  return out;
}

/**
 * Diffs the compared entries of each lease-user thread against the statement events of each session (both in
 * order). Sessions without events and threads without compared entries pair up silently.
 */
export function diffAudit(threads: ReadonlyMap<string, readonly GeneralLogEntry[]>,
  sessions: ReadonlyMap<string, readonly StatementEvent[]>): AuditDiff {
  const compared = new Map([...threads].map(([id, entries]) => [id, entries.filter((entry) => COMPARED_COMMANDS.has(entry.command))] as const));
  const unpaired = new Map([...compared].filter(([, entries]) => entries.length > 0));
  const pairs: [string, string | null][] = [];
  for (const [session, events] of sessions) {
    if (events.length === 0) continue;
    let best: { id: string; prefix: number } | undefined;
    for (const [id, entries] of unpaired) {
      const { prefix } = align(session, id, entries, events, true);
      if (best === undefined || prefix > best.prefix) best = { id, prefix };
      if (prefix === entries.length) break;
    }
    if (best !== undefined && best.prefix > 0) unpaired.delete(best.id);
    pairs.push([session, best !== undefined && best.prefix > 0 ? best.id : null]);
  }
  const results = pairs.map(([session, id]) => align(session, id, id === null ? [] : compared.get(id) ?? [], sessions.get(session) ?? [], false));
  for (const [id, entries] of unpaired) results.push(align(null, id, entries, [], false));
  const sum = (pick: (a: Alignment) => number): number => results.reduce((total, a) => total + pick(a), 0);
  return {
    logEntries: [...compared.values()].reduce((total, entries) => total + entries.length, 0),
    events: [...sessions.values()].reduce((total, events) => total + events.length, 0),
    matchedEntries: sum((a) => a.matchedEntries),
    matchedEvents: sum((a) => a.matchedEvents),
    prepareErrors: sum((a) => a.prepareErrors),
    answeredKills: sum((a) => a.answeredKills),
    sessions: sessions.size,
    threads: threads.size,
    missing: results.flatMap((a) => a.missing),
    extra: results.flatMap((a) => a.extra),
  };
}
