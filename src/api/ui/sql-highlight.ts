// A tiny SQL tokenizer for display: keywords, strings, quoted identifiers, numbers, comments and placeholders get a
// class; every token's text is escaped. It only colours — it decides nothing — so an unterminated string or a
// dialect quirk just runs to the end of the text as one token. Lossless: the tokens concatenate to the input.
import { escapeHtml, SafeHtml } from './html.js';

export type SqlDialect = 'postgres' | 'mysql';
export type TokenKind = 'keyword' | 'word' | 'string' | 'identifier' | 'number' | 'comment' | 'placeholder' | 'operator' | 'space';

export interface SqlToken {
  readonly kind: TokenKind;
  readonly text: string;
}

const KEYWORDS = new Set(`
  add all alter analyze and any as asc begin between by call case cast check column commit constraint copy create cross
  current database deallocate declare default delete desc describe distinct do drop else end except execute exists
  explain false fetch for foreign from full function grant group having if ilike in index inner insert intersect into is
  join key left like limit lock not null offset on or order outer over partition prepare primary procedure references
  release replace returning revoke right rollback savepoint schema select sequence set show start table then to
  transaction trigger true truncate union unique update use using values view when where window with
`.split(/\s+/).filter(Boolean));

const CLASS_OF: Readonly<Record<TokenKind, string | undefined>> = {
  keyword: 'k', string: 's', identifier: 'i', number: 'n', comment: 'c', placeholder: 'p', operator: 'o', word: undefined, space: undefined,
};

/** End (exclusive) of a quoted run starting at `start` (the opening quote); doubled quotes stay inside. */
function quotedEnd(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let at = start + 1;
  while (at < sql.length) {
    const char = sql[at];
    if (backslashEscapes && char === '\\') {
      at += 2;
    } else if (char === quote) {
      if (sql[at + 1] !== quote) return at + 1;
      at += 2;
    } else {
      at += 1;
    }
  }
  return sql.length;
}

/** PostgreSQL block comments nest; MySQL's do not. */
function blockCommentEnd(sql: string, start: number, nests: boolean): number {
  let depth = 0;
  let at = start;
  while (at < sql.length) {
    if (sql.startsWith('/*', at)) {
      depth = nests ? depth + 1 : 1;
      at += 2;
    } else if (sql.startsWith('*/', at)) {
      depth -= 1;
      at += 2;
      if (depth === 0) return at;
    } else {
      at += 1;
    }
  }
  return sql.length;
}

function lineEnd(sql: string, start: number): number {
  const newline = sql.indexOf('\n', start);
  return newline < 0 ? sql.length : newline;
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;
const SPACE = /\s+/y;

function matchAt(pattern: RegExp, sql: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(sql)?.[0];
}

/** One token starting at `at`. */
function nextToken(sql: string, at: number, dialect: SqlDialect): SqlToken {
  const char = sql[at] ?? '';
  const rest = (end: number, kind: TokenKind): SqlToken => ({ kind, text: sql.slice(at, end) });
  const space = matchAt(SPACE, sql, at);
  if (space) return { kind: 'space', text: space };
  if (sql.startsWith('--', at) || (dialect === 'mysql' && char === '#')) return rest(lineEnd(sql, at), 'comment');
  if (sql.startsWith('/*', at)) return rest(blockCommentEnd(sql, at, dialect === 'postgres'), 'comment');
  if (char === "'") return rest(quotedEnd(sql, at, "'", dialect === 'mysql'), 'string');
  if (dialect === 'postgres' && (char === 'E' || char === 'e') && sql[at + 1] === "'") return rest(quotedEnd(sql, at + 1, "'", true), 'string');
  if (char === '"') return rest(quotedEnd(sql, at, '"', dialect === 'mysql'), dialect === 'mysql' ? 'string' : 'identifier');
  if (char === '`' && dialect === 'mysql') return rest(quotedEnd(sql, at, '`', false), 'identifier');
  if (char === '$' && dialect === 'postgres') {
    const placeholder = /^\$\d+/.exec(sql.slice(at, at + 12))?.[0];
    if (placeholder) return { kind: 'placeholder', text: placeholder };
    const tag = matchAt(DOLLAR_TAG, sql, at);
    if (tag) {
      const close = sql.indexOf(tag, at + tag.length);
      return rest(close < 0 ? sql.length : close + tag.length, 'string');
    }
  }
  if (char === '?') return { kind: 'placeholder', text: char };
  const number = matchAt(NUMBER, sql, at);
  if (number) return { kind: 'number', text: number };
  const word = matchAt(WORD, sql, at);
  if (word) return { kind: KEYWORDS.has(word.toLowerCase()) ? 'keyword' : 'word', text: word };
  // One UTF-16 unit at a time is fine here: escaping works per unit, and the units are re-joined unchanged.
  return { kind: 'operator', text: char };
}

export function tokenizeSql(sql: string, dialect: SqlDialect): SqlToken[] {
  const tokens: SqlToken[] = [];
  let at = 0;
  while (at < sql.length) {
    const token = nextToken(sql, at, dialect);
    tokens.push(token);
    at += Math.max(1, token.text.length);
  }
  return tokens;
}

/** Highlighted, escaped markup for a `<code>` element. */
export function highlightSql(sql: string, dialect: SqlDialect): SafeHtml {
  let out = '';
  for (const token of tokenizeSql(sql, dialect)) {
    const className = CLASS_OF[token.kind];
    const text = escapeHtml(token.text);
    out += className === undefined ? text : `<span class="${className}">${text}</span>`;
  }
  return new SafeHtml(out);
}
