// What PostgreSQL itself logged with log_statement=all, read from its jsonlog (one JSON object per line, PG ≥ 15), as
// statements per backend session: the server's account of what a user ran, to hold jitgate's audit events against.
// Written from the server's own formats (postgres.c exec_simple_query / exec_execute_message, params.c
// BuildParamLogString), sharing nothing with the tap.
import { readFile } from 'node:fs/promises';

export type LoggedStatement =
  /** `statement: <the whole Query string>` — a simple Query, logged once however many statements it holds. */
  | { readonly kind: 'simple'; readonly sql: string; readonly line: number }
  /**
   * An ERROR whose STATEMENT was never logged as run: refused before it ran (a syntax error rejects a whole Query
   * string before log_statement sees it; a failed Parse or Bind never reaches Execute). `sql` is the STATEMENT text.
   */
  | { readonly kind: 'rejected'; readonly sql: string; readonly code: string; readonly line: number;
      /** The error's 1-based character position in `sql` (the client saw it as field 'P'), when it has one. */
      readonly position?: number }
  /**
   * `execute <statement>[/<portal>]: <sql>` (or `execute fetch from …` for a portal resumed after PortalSuspended),
   * with `DETAIL: parameters: $1 = '…', $2 = NULL` when it had parameters.
   */
  | { readonly kind: 'extended'; readonly statement: string; readonly portal: string; readonly fetch: boolean;
      readonly sql: string; readonly params: readonly (string | null)[]; readonly line: number };

export interface LoggedSession {
  readonly sessionId: string;
  readonly pid: number;
  readonly statements: LoggedStatement[];
}

interface JsonLogEntry {
  readonly user?: string;
  readonly session_id?: string;
  readonly pid?: number;
  readonly line_num?: number;
  readonly error_severity?: string;
  readonly state_code?: string;
  readonly message?: string;
  readonly detail?: string;
  /** The STATEMENT of an error report (debug_query_string). */
  readonly statement?: string;
  readonly cursor_position?: number;
}

const EXECUTE = /^execute (fetch from )?(.*?)(?:\/(.*?))?: ([\s\S]*)$/;

/**
 * `$1 = 'it''s', $2 = NULL`: values are single-quoted with quotes doubled (appendStringInfoStringQuoted); NULL is
 * bare. A value cut by log_parameter_max_length would end in `...'`; the suites log without a limit.
 */
export function parseParameterDetail(detail: string): (string | null)[] {
  const prefix = 'parameters: ';
  if (!detail.startsWith(prefix)) throw new Error(`not a parameters detail: ${detail.slice(0, 80)}`);
  const values: (string | null)[] = [];
  let pos = prefix.length;
  for (let index = 1; ; index++) {
    const head = `$${index} = `;
    if (!detail.startsWith(head, pos)) throw new Error(`parameters detail: expected "${head}" at ${pos}`);
    pos += head.length;
    if (detail.startsWith('NULL', pos)) {
      values.push(null);
      pos += 4;
    } else {
      if (detail[pos] !== "'") throw new Error(`parameters detail: expected a quote at ${pos}`);
      let value = '';
      pos += 1;
      for (;;) {
        const quote = detail.indexOf("'", pos);
        if (quote === -1) throw new Error('parameters detail: unterminated value');
        value += detail.slice(pos, quote);
        if (detail[quote + 1] === "'") {
          value += "'";
          pos = quote + 2;
          continue;
        }
        pos = quote + 1;
        break;
      }
      values.push(value);
    }
    if (pos === detail.length) return values;
    if (!detail.startsWith(', ', pos)) throw new Error(`parameters detail: expected ", " at ${pos}`);
    pos += 2;
  }
}

function toStatement(entry: JsonLogEntry): LoggedStatement | undefined {
  const message = entry.message ?? '';
  const line = entry.line_num ?? 0;
  if (message.startsWith('statement: ')) return { kind: 'simple', sql: message.slice('statement: '.length), line };
  const execute = EXECUTE.exec(message);
  if (execute === null) return undefined;
  return {
    kind: 'extended',
    fetch: execute[1] !== undefined,
    statement: execute[2] ?? '',
    portal: execute[3] ?? '',
    sql: execute[4] ?? '',
    params: entry.detail === undefined ? [] : parseParameterDetail(entry.detail),
    line,
  };
}

/**
 * The statements `user` ran, per backend session, in the order each backend logged them. Needs log_statement=all and
 * log_min_duration_statement=0: a `duration:` line marks a statement (or a Parse, a Bind) that finished, so an ERROR
 * after it, even with the same text, is a new refusal rather than that statement's failure.
 */
export async function readLoggedStatements(jsonLogPath: string, user: string): Promise<LoggedSession[]> {
  const entries = new Map<string, JsonLogEntry[]>();
  for (const text of (await readFile(jsonLogPath, 'utf8')).split('\n')) {
    if (text === '') continue;
    const entry = JSON.parse(text) as JsonLogEntry;
    if (entry.user !== user || entry.session_id === undefined) continue;
    const list = entries.get(entry.session_id) ?? [];
    list.push(entry);
    entries.set(entry.session_id, list);
  }
  const sessions: LoggedSession[] = [];
  for (const [sessionId, list] of entries) {
    list.sort((a, b) => (a.line_num ?? 0) - (b.line_num ?? 0));
    const statements: LoggedStatement[] = [];
    /** The text of the logged statement still running (no `duration:` and no ERROR for it yet). */
    let running: string | undefined;
    for (const entry of list) {
      const statement = toStatement(entry);
      if (statement !== undefined) {
        statements.push(statement);
        running = statement.sql;
      } else if ((entry.message ?? '').startsWith('duration: ')) {
        running = undefined;
      } else if (entry.error_severity === 'ERROR' && entry.statement !== undefined) {
        if (running === entry.statement) running = undefined;
        else {
          statements.push({
            kind: 'rejected', sql: entry.statement, code: entry.state_code ?? '', line: entry.line_num ?? 0,
            ...(entry.cursor_position === undefined ? {} : { position: entry.cursor_position }),
          });
        }
      }
    }
    if (statements.length > 0) sessions.push({ sessionId, pid: list[0]?.pid ?? 0, statements });
  }
  return sessions;
}

/** Whether the log holds `needle` yet (the logging collector writes asynchronously). */
export async function logContains(jsonLogPath: string, needle: string): Promise<boolean> {
  try {
    return (await readFile(jsonLogPath, 'utf8')).includes(needle);
  } catch {
    return false;
  }
}

/**
 * jitgate hands a server connection that a client left cleanly to the grant's next login after DISCARD ALL: one
 * backend session then carries several client sessions. Splits each at those resets (which are jitgate's, not a
 * client's statements, and carry no audit event), so every part pairs with one recorded session.
 */
export function splitAtServerResets(sessions: readonly LoggedSession[]): { sessions: LoggedSession[]; resets: number } {
  const parts: LoggedSession[] = [];
  let resets = 0;
  for (const session of sessions) {
    let current: LoggedStatement[] = [];
    let part = 0;
    const close = (): void => {
      if (current.length > 0) parts.push({ sessionId: `${session.sessionId}#${part}`, pid: session.pid, statements: current });
      part++;
      current = [];
    };
    for (const statement of session.statements) {
      if (statement.kind === 'simple' && statement.sql === 'DISCARD ALL') {
        resets++;
        close();
      } else {
        current.push(statement);
      }
    }
    close();
  }
  return { sessions: parts, resets };
}
