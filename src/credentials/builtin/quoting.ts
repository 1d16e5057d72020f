// Quoting for the statements the broker writes itself (templates are rendered by templates.ts). Everything that
// is not a constant goes through one of these, even values we generated: the rule is cheaper to keep than to argue.

function refuseNul(text: string): void {
  // Neither server accepts NUL in a name, and a C string would cut the statement short there.
  if (text.includes('\0')) throw new Error('a NUL character cannot be quoted');
}

/** PostgreSQL identifier: double quotes, an embedded double quote doubled (as quote_ident does). */
export function quotePgIdent(name: string): string {
  refuseNul(name);
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * PostgreSQL string literal: single quotes doubled; with a backslash present, the E'' form with backslashes
 * doubled, which reads the same whatever standard_conforming_strings says (as quote_literal does).
 */
export function quotePgLiteral(text: string): string {
  refuseNul(text);
  const doubledQuotes = text.replace(/'/g, "''");
  return text.includes('\\') ? `E'${doubledQuotes.replace(/\\/g, '\\\\')}'` : `'${doubledQuotes}'`;
}

/**
 * MySQL identifier, also used for both halves of an account name (`user`@`host` is valid account syntax):
 * backticks never process backslashes, so the quoting holds under every sql_mode, NO_BACKSLASH_ESCAPES included,
 * which is not true of a '…' literal.
 */
export function quoteMysqlIdent(name: string): string {
  refuseNul(name);
  return `\`${name.replace(/`/g, '``')}\``;
}

export const mysqlAccount = (user: string, host: string): string => `${quoteMysqlIdent(user)}@${quoteMysqlIdent(host)}`;
