// The tap's records: a statement in flight and the audit fields it becomes; a simple Query string split into the
// statements the audit records, and an ErrorResponse attributed to the statement its position points into (protocol
// docs §55.8 field 'P': a 1-based character offset into the whole Query string).
import type { StatementFields, StatementKind } from '../../audit/events.js';
import { isoAtMillis } from '../../audit/iso-time.js';
import { splitStatements } from '../../audit/statement-text.js';

/** One statement from request to reply; mutable, since rows and bytes are counted as the reply streams by. */
export interface StatementInFlight {
  kind: StatementKind;
  sql: string;
  params?: readonly (string | null)[];
  statementName?: string;
  portal?: string;
  /** performance.now() at the request. */
  startedAt: number;
  startedIso: string;
  rows: number;
  bytes: number;
  /** What the tap could not decode of the request (the server got it as sent and answered for itself). */
  undecoded?: string;
}

/** A statement starting now, or at `extra.startedAt` (a performance.now() reading) when it was queued earlier. */
export function beginStatement(kind: StatementKind, sql: string, extra: Partial<StatementInFlight>): StatementInFlight {
  const now = performance.now();
  const startedAt = extra.startedAt ?? now;
  return { kind, sql, startedIso: isoAtMillis(Date.now() - (now - startedAt)), rows: 0, bytes: 0, ...extra, startedAt };
}

export interface StatementOutcome {
  readonly tag?: string;
  readonly rows?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export function statementFields(statement: StatementInFlight, outcome: StatementOutcome): Omit<StatementFields, 'seq'> {
  return {
    kind: statement.kind,
    sql: statement.sql,
    ...(statement.params !== undefined && statement.params.length > 0 ? { params: statement.params } : {}),
    ...(statement.statementName !== undefined ? { statement_name: statement.statementName } : {}),
    ...(statement.portal !== undefined ? { portal: statement.portal } : {}),
    started: statement.startedIso,
    duration_us: Math.round((performance.now() - statement.startedAt) * 1000),
    ...(outcome.error ? { error: outcome.error } : { tag: outcome.tag ?? '', rows: outcome.rows ?? statement.rows }),
    bytes: statement.bytes,
    ...(statement.undecoded !== undefined ? { undecoded: statement.undecoded } : {}),
  };
}

/** Which statement of `sql` (split as `statements`, in order) holds the 1-based character `position`; undefined if none. */
export function statementAtPosition(sql: string, statements: readonly string[], position: number): number | undefined {
  if (!Number.isInteger(position) || position < 1 || statements.length < 2) return undefined;
  // The server counts characters (code points), JavaScript strings count UTF-16 units.
  let unit = 0;
  for (let characters = 1; characters < position && unit < sql.length; characters++) {
    const code = sql.codePointAt(unit) ?? 0;
    unit += code > 0xffff ? 2 : 1;
  }
  let cursor = 0;
  for (let index = 0; index < statements.length; index++) {
    const text = statements[index] as string;
    const start = sql.indexOf(text, cursor);
    if (start === -1) return undefined;
    cursor = start + text.length;
    if (unit < cursor) return unit >= start ? index : undefined;
  }
  return undefined;
}

/** A Query's statements: the whole string kept only when there are several (for error positions). */
export function queryStatements(sql: string): { readonly statements: string[]; readonly source: string } {
  const statements = splitStatements(sql, 'postgres');
  return { statements, source: statements.length > 1 ? sql : '' };
}
