// Removes password literals from account statements before they reach the audit trail (DESIGN §6: PASSWORD
// literals never reach any log). Conservative on purpose: only CREATE/ALTER USER|ROLE|GROUP, MySQL SET PASSWORD
// and GRANT … IDENTIFIED are touched, and in them only a literal in a password position. Everything else is kept
// byte for byte, including the word "password" in strings, comments and column names.
import { REDACTED } from './secret.js';
import { scanSqlTokens, type SqlDialect, type SqlToken } from './sql-scan.js';

const REPLACEMENT = `'${REDACTED}'`;

// Cheap gate for the hot path: no statement this module rewrites lacks both words.
const MIGHT_CARRY_PASSWORD = /password|identified/i;

type AccountStatement = 'user' | 'set_password' | 'grant';

interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Replaces the literal after PASSWORD, IDENTIFIED BY, IDENTIFIED WITH <plugin> BY|AS, IDENTIFIED VIA <plugin>
 * USING, PASSWORD('…'), REPLACE '…' and SET PASSWORD … = with '[redacted]'. Without `dialect` the text is scanned
 * by both PostgreSQL and MySQL quoting rules and the union is redacted: when the dialect is unknown, a literal
 * that one dialect reads longer than the other is removed whole.
 */
export function redactPasswordLiterals(sql: string, dialect?: SqlDialect): string {
  if (!MIGHT_CARRY_PASSWORD.test(sql)) return sql;
  const dialects: readonly SqlDialect[] = dialect === undefined ? ['postgres', 'mysql'] : [dialect];
  const spans = dialects.flatMap((each) => findPasswordLiterals(sql, each));
  return spans.length === 0 ? sql : replaceSpans(sql, mergeSpans(spans));
}

export function findPasswordLiterals(sql: string, dialect: SqlDialect): Span[] {
  const spans: Span[] = [];
  let statement: SqlToken[] = [];
  for (const token of scanSqlTokens(sql, dialect)) {
    if (token.kind === 'semicolon') {
      spans.push(...literalsInStatement(sql, statement));
      statement = [];
    } else {
      statement.push(token);
    }
  }
  spans.push(...literalsInStatement(sql, statement));
  return spans;
}

function literalsInStatement(sql: string, tokens: readonly SqlToken[]): Span[] {
  const statement = classifyStatement(sql, tokens);
  if (statement === undefined) return [];
  const spans: Span[] = [];
  let identifiedSeen = false;
  let previousRedacted = false;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token === undefined) break;
    if (token.kind !== 'string') {
      if (token.kind === 'word' && wordOf(sql, token) === 'IDENTIFIED') identifiedSeen = true;
      previousRedacted = false;
      continue;
    }
    // Adjacent literals are concatenated by both servers ('pa' 'ss'), so a continuation is part of the secret.
    const redact: boolean = previousRedacted || isPasswordPosition(sql, tokens[index - 1], tokens[index - 2], statement, identifiedSeen);
    if (redact) spans.push({ start: token.start, end: token.end });
    previousRedacted = redact;
  }
  return spans;
}

function isPasswordPosition(
  sql: string,
  before: SqlToken | undefined,
  twoBefore: SqlToken | undefined,
  statement: AccountStatement,
  identifiedSeen: boolean,
): boolean {
  if (before === undefined) return false;
  if (before.kind === 'word') {
    const word = wordOf(sql, before);
    // PASSWORD 'x' (PG, MySQL, user mappings), REPLACE 'old' (MySQL ALTER USER / SET PASSWORD).
    if (word === 'PASSWORD' || word === 'REPLACE') return true;
    // IDENTIFIED BY 'x', IDENTIFIED WITH plugin BY 'x' | AS 'hash', MariaDB IDENTIFIED VIA plugin USING 'hash'.
    return identifiedSeen && (word === 'BY' || word === 'AS' || word === 'USING');
  }
  if (before.kind !== 'symbol') return false;
  const symbol = sql[before.start];
  // PASSWORD('x') / OLD_PASSWORD('x'): MySQL's hashing functions, MariaDB's USING PASSWORD('x').
  if (symbol === '(' && twoBefore?.kind === 'word') {
    const word = wordOf(sql, twoBefore);
    return word === 'PASSWORD' || word === 'OLD_PASSWORD';
  }
  // SET PASSWORD [FOR user] = 'x'
  return symbol === '=' && statement === 'set_password';
}

function classifyStatement(sql: string, tokens: readonly SqlToken[]): AccountStatement | undefined {
  const words: string[] = [];
  for (const token of tokens.slice(0, 4)) {
    if (token.kind !== 'word') break;
    words.push(wordOf(sql, token));
  }
  const [first, second, third, fourth] = words;
  if (first === 'GRANT') return 'grant';
  if (first === 'SET' && second === 'PASSWORD') return 'set_password';
  const object = first === 'CREATE' && second === 'OR' && third === 'REPLACE' ? fourth : second;
  if ((first === 'CREATE' || first === 'ALTER') && (object === 'USER' || object === 'ROLE' || object === 'GROUP')) return 'user';
  return undefined;
}

function wordOf(sql: string, token: SqlToken): string {
  return sql.slice(token.start, token.end).toUpperCase();
}

function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && span.start < last.end) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, span.end) };
    } else {
      merged.push(span);
    }
  }
  return merged;
}

function replaceSpans(sql: string, spans: readonly Span[]): string {
  let out = '';
  let pos = 0;
  for (const span of spans) {
    out += sql.slice(pos, span.start) + REPLACEMENT;
    pos = span.end;
  }
  return out + sql.slice(pos);
}
