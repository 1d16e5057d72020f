// A simple Query string split into the statements the audit records, and an ErrorResponse attributed to the statement
// its position points into (protocol docs §55.8 field 'P': a 1-based character offset into the whole Query string).
import { splitStatements } from '../../audit/statement-text.js';

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
