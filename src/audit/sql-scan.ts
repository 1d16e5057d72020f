// A small quote-aware SQL tokenizer: just enough to tell code from string literals, quoted identifiers and
// comments, so password redaction never mistakes the inside of a string for a keyword (or the reverse).
// It is not a parser: statements are split at top-level `;`, and tokens are words, literals and single symbols.

export type SqlDialect = 'postgres' | 'mysql';

export type SqlTokenKind = 'word' | 'string' | 'identifier' | 'semicolon' | 'symbol';

export interface SqlToken {
  readonly kind: SqlTokenKind;
  /** Offsets into the scanned text, end exclusive. A string token includes its quotes and any prefix (E, N, _utf8). */
  readonly start: number;
  readonly end: number;
}

// PG: `$tag$` opens a dollar-quoted string; the tag follows identifier rules but may not contain `$`.
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const POSTGRES_PREFIXES = new Set(['E', 'B', 'X', 'N']);
const MYSQL_PREFIXES = new Set(['N', 'B', 'X']);

export function scanSqlTokens(sql: string, dialect: SqlDialect): SqlToken[] {
  const mysql = dialect === 'mysql';
  const tokens: SqlToken[] = [];
  let pos = 0;
  // MySQL runs the inside of `/*! … */` as code, so only its markers are skipped.
  let insideExecutableComment = false;
  while (pos < sql.length) {
    const char = sql[pos] ?? '';
    const next = sql[pos + 1] ?? '';
    if (isWhitespace(char)) {
      pos++;
    } else if (char === '-' && next === '-' && (!mysql || isMysqlDashCommentEnd(sql[pos + 2]))) {
      pos = lineEnd(sql, pos);
    } else if (char === '#' && mysql) {
      pos = lineEnd(sql, pos);
    } else if (char === '/' && next === '*') {
      const executable = mysql ? executableCommentBody(sql, pos) : undefined;
      if (executable === undefined) {
        pos = blockCommentEnd(sql, pos, !mysql);
      } else {
        pos = executable;
        insideExecutableComment = true;
      }
    } else if (char === '*' && next === '/' && insideExecutableComment) {
      pos += 2;
      insideExecutableComment = false;
    } else if (char === "'") {
      pos = push(tokens, 'string', pos, quotedEnd(sql, pos, "'", mysql));
    } else if (char === '"') {
      // Double quotes delimit a string in MySQL (without ANSI_QUOTES) and an identifier in PostgreSQL.
      pos = mysql ? push(tokens, 'string', pos, quotedEnd(sql, pos, '"', true)) : push(tokens, 'identifier', pos, quotedEnd(sql, pos, '"', false));
    } else if (char === '`' && mysql) {
      pos = push(tokens, 'identifier', pos, quotedEnd(sql, pos, '`', false));
    } else if (char === '$' && !mysql) {
      pos = scanDollar(sql, pos, tokens);
    } else if (char === ';') {
      pos = push(tokens, 'semicolon', pos, pos + 1);
    } else if (isWordStart(char, mysql)) {
      pos = scanWord(sql, pos, tokens, mysql);
    } else {
      pos = push(tokens, 'symbol', pos, pos + 1);
    }
  }
  return tokens;
}

function push(tokens: SqlToken[], kind: SqlTokenKind, start: number, end: number): number {
  tokens.push({ kind, start, end });
  return end;
}

/** A word, or a prefixed literal such as E'…', N'…', X'…', U&'…' (PG) or _utf8mb4'…' (MySQL). */
function scanWord(sql: string, start: number, tokens: SqlToken[], mysql: boolean): number {
  let end = start + 1;
  while (end < sql.length && isWordPart(sql[end] ?? '')) end++;
  const word = sql.slice(start, end).toUpperCase();
  if (sql[end] === "'") {
    if (mysql && (MYSQL_PREFIXES.has(word) || word.startsWith('_'))) return push(tokens, 'string', start, quotedEnd(sql, end, "'", true));
    if (!mysql && POSTGRES_PREFIXES.has(word)) return push(tokens, 'string', start, quotedEnd(sql, end, "'", word === 'E'));
  }
  if (!mysql && word === 'U' && sql[end] === '&' && sql[end + 1] === "'") {
    return push(tokens, 'string', start, quotedEnd(sql, end + 1, "'", false));
  }
  return push(tokens, 'word', start, end);
}

/** PG `$tag$…$tag$` string, `$1` parameter, or a lone `$` symbol. */
function scanDollar(sql: string, start: number, tokens: SqlToken[]): number {
  DOLLAR_TAG.lastIndex = start;
  const tag = DOLLAR_TAG.exec(sql)?.[0];
  if (tag !== undefined) {
    const close = sql.indexOf(tag, start + tag.length);
    return push(tokens, 'string', start, close === -1 ? sql.length : close + tag.length);
  }
  let end = start + 1;
  while (end < sql.length && isDigit(sql[end] ?? '')) end++;
  return push(tokens, end > start + 1 ? 'word' : 'symbol', start, end);
}

/**
 * End (exclusive) of the quoted run opening at `open`: a doubled quote stands for itself, and where backslash
 * escapes apply (MySQL, PG E'…') a backslash hides the next character. Unterminated runs end with the text.
 */
function quotedEnd(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let pos = open + 1;
  while (pos < sql.length) {
    const char = sql[pos];
    if (backslashEscapes && char === '\\') {
      pos += 2;
    } else if (char === quote) {
      if (sql[pos + 1] !== quote) return pos + 1;
      pos += 2;
    } else {
      pos++;
    }
  }
  return sql.length;
}

function lineEnd(sql: string, pos: number): number {
  const newline = sql.indexOf('\n', pos);
  return newline === -1 ? sql.length : newline + 1;
}

// PG block comments nest; MySQL's do not. Unterminated comments run to the end.
function blockCommentEnd(sql: string, open: number, nested: boolean): number {
  let depth = 0;
  let pos = open;
  while (pos < sql.length) {
    if (sql.startsWith('/*', pos) && (nested || depth === 0)) {
      depth++;
      pos += 2;
    } else if (sql.startsWith('*/', pos)) {
      depth--;
      pos += 2;
      if (depth === 0) return pos;
    } else {
      pos++;
    }
  }
  return sql.length;
}

/** For MySQL `/*!50700 …` and MariaDB `/*M!100100 …`: where the executed text starts, else undefined. */
function executableCommentBody(sql: string, open: number): number | undefined {
  let pos = open + 2;
  if (sql[pos] === 'M' && sql[pos + 1] === '!') pos++;
  if (sql[pos] !== '!') return undefined;
  pos++;
  const versionEnd = pos + 6;
  while (pos < versionEnd && isDigit(sql[pos] ?? '')) pos++;
  return pos;
}

/** MySQL needs whitespace or a control character after `--` for a comment (`1--1` is arithmetic). */
function isMysqlDashCommentEnd(char: string | undefined): boolean {
  return char === undefined || char <= ' ';
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\n' || char === '\t' || char === '\r' || char === '\f' || char === '\v';
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

function isWordStart(char: string, mysql: boolean): boolean {
  return isWordPart(char) && (mysql || char !== '$');
}

function isWordPart(char: string): boolean {
  return (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z') || isDigit(char) || char === '_' || char === '$' || char >= '\u0080';
}
