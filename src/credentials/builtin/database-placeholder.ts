// `{{database}}`: the resource's database name in a role statement (``GRANT SELECT ON `{{database}}`.* …``). Unlike
// the other placeholders' values, which jitgate generates from alphabets that cannot leave a quote, the operator
// chose this one and it may hold any character. So it is quoted for the spot where it stands: inside "…" or `…`
// the identifier's quote is doubled, inside '…' (or MySQL "…") the literal's quote is doubled, and written bare it
// becomes a quoted identifier of its own. Spots where no quoting is safe whatever the server's settings say are
// refused: a dollar-quoted body (its own quoting is unknown), a comment, a bare placeholder glued to other text, a
// backslash where one may be an escape (MySQL without NO_BACKSLASH_ESCAPES, PG E'…' or standard_conforming_strings
// off), and NUL anywhere.
import type { SqlDialect, SqlToken } from '../../audit/sql-scan.js';
import { quoteMysqlIdent, quotePgIdent } from './quoting.js';

type DatabaseSpot =
  | { readonly kind: 'quoted'; readonly quote: string; readonly backslashSafe: boolean }
  | { readonly kind: 'bare' }
  | { readonly kind: 'refused'; readonly why: string };

/** Characters that would join a bare placeholder's quoted value to its neighbour (`x{{database}}`, `"a"{{database}}`). */
const GLUE = /[A-Za-z0-9_$"'`&\u0080-\uffff]/;

/** Where `{{database}}` at `offset` of `statement` stands, from the statement's tokens (templates.ts scans it once). */
function spotAt(statement: string, offset: number, tokens: readonly SqlToken[], dialect: SqlDialect): DatabaseSpot {
  const inside = tokens.find((token) => token.start < offset && offset < token.end);
  if (inside === undefined) {
    // Bare: the first `{` is a symbol token of its own. Otherwise the offset lies in no token, i.e. in a comment.
    if (!tokens.some((token) => token.start === offset)) return { kind: 'refused', why: 'inside a comment' };
    const before = statement[offset - 1] ?? ' ';
    const after = statement[offset + '{{database}}'.length] ?? ' ';
    if (GLUE.test(before) || GLUE.test(after)) {
      return { kind: 'refused', why: 'glued to other text (write it alone, where an identifier goes, or inside quotes)' };
    }
    return { kind: 'bare' };
  }
  const text = statement.slice(inside.start, inside.end);
  if (inside.kind === 'identifier') {
    const quote = text[0] ?? '"';
    // A MySQL backtick name never processes backslashes; a PG "…" name does after a U& prefix.
    return { kind: 'quoted', quote, backslashSafe: quote === '`' };
  }
  if (inside.kind === 'string') {
    if (text.startsWith('$')) return { kind: 'refused', why: 'inside a dollar-quoted body, whose own quoting jitgate cannot know' };
    const quoteAt = text.search(/['"]/);
    return { kind: 'quoted', quote: text[quoteAt] ?? "'", backslashSafe: false };
  }
  return { kind: 'refused', why: `inside a ${dialect} ${inside.kind}` };
}

/** The text that replaces `{{database}}` at `offset`, or why it cannot be placed there safely (never echoing the value). */
export function databaseText(statement: string, offset: number, tokens: readonly SqlToken[], dialect: SqlDialect, database: string):
  { readonly text: string } | { readonly problem: string } {
  if (database.includes('\0')) return { problem: '{{database}}: the database name contains a NUL character' };
  const spot = spotAt(statement, offset, tokens, dialect);
  switch (spot.kind) {
    case 'refused':
      return { problem: `{{database}} cannot be quoted safely ${spot.why}` };
    case 'bare':
      return { text: dialect === 'postgres' ? quotePgIdent(database) : quoteMysqlIdent(database) };
    case 'quoted':
      if (!spot.backslashSafe && database.includes('\\')) {
        return { problem: `{{database}}: the database name contains a backslash, which may act as an escape inside ${spot.quote}…${spot.quote}` };
      }
      return { text: database.split(spot.quote).join(spot.quote + spot.quote) };
  }
}
