// MariaDB writes a COM_STMT_EXECUTE to its general log as the prepared text with each `?` replaced by the value as a
// SQL literal (sql/sql_prepare.cc insert_params_with_log → Item_param::query_val_str): NULL, a number, a string in
// single quotes with backslash escapes (sql/log_event.cc append_query_string → escape_string_for_mysql, raw bytes
// otherwise), or DATE'…' / TIME'…' / TIMESTAMP'…'. This reads those literals back out of the log entry, given the
// prepared text, and compares them with the parameters jitgate recorded for the execute (their audit text:
// protocols/mysql/binary-values.ts renders text types as UTF-8, BLOBs as 0x-hex, long values cut with `…[N bytes]`).
// Written from the server's behaviour, sharing no code with jitgate (STYLE rule 14).

export type LogLiteral =
  | { readonly type: 'null' }
  | { readonly type: 'number'; readonly text: string }
  | { readonly type: 'string'; readonly bytes: Buffer }
  | { readonly type: 'temporal'; readonly text: string };

/** The prepared text cut at its `?` markers (outside quotes and comments), as MariaDB finds them. */
export function placeholderFragments(sql: string): string[] {
  const fragments: string[] = [];
  let start = 0;
  let at = 0;
  while (at < sql.length) {
    const char = sql[at] ?? '';
    if (char === "'" || char === '"' || char === '`') {
      at++;
      while (at < sql.length && sql[at] !== char) at += sql[at] === '\\' && char !== '`' ? 2 : 1;
      at++;
    } else if (char === '-' && sql.startsWith('-- ', at)) {
      const end = sql.indexOf('\n', at);
      at = end === -1 ? sql.length : end;
    } else if (char === '/' && sql[at + 1] === '*') {
      const end = sql.indexOf('*/', at + 2);
      at = end === -1 ? sql.length : end + 2;
    } else if (char === '?') {
      fragments.push(sql.slice(start, at));
      start = ++at;
    } else {
      at++;
    }
  }
  fragments.push(sql.slice(start));
  return fragments;
}

const ESCAPES: Readonly<Record<string, number>> = { '0': 0x00, n: 0x0a, r: 0x0d, Z: 0x1a, t: 0x09, b: 0x08 };

/** A quoted run starting at `open` (the quote): its bytes unescaped, and the offset after the closing quote. */
function quoted(bytes: Buffer, open: number): { bytes: Buffer; end: number } | undefined {
  const out: number[] = [];
  let at = open + 1;
  while (at < bytes.length) {
    const byte = bytes[at] as number;
    if (byte === 0x5c) {
      const next = bytes[at + 1];
      if (next === undefined) return undefined;
      out.push(ESCAPES[String.fromCharCode(next)] ?? next);
      at += 2;
    } else if (byte === 0x27) {
      if (bytes[at + 1] !== 0x27) return { bytes: Buffer.from(out), end: at + 1 };
      out.push(0x27);
      at += 2;
    } else {
      out.push(byte);
      at++;
    }
  }
  return undefined;
}

const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const TEMPORAL = /^(DATE|TIME|TIMESTAMP)'/;

function literalAt(bytes: Buffer, at: number): { literal: LogLiteral; end: number } | undefined {
  const head = bytes.toString('latin1', at, at + 40);
  if (head.startsWith('NULL')) return { literal: { type: 'null' }, end: at + 4 };
  if (head.startsWith("'")) {
    const run = quoted(bytes, at);
    return run && { literal: { type: 'string', bytes: run.bytes }, end: run.end };
  }
  const temporal = TEMPORAL.exec(head);
  if (temporal) {
    const run = quoted(bytes, at + (temporal[1] ?? '').length);
    return run && { literal: { type: 'temporal', text: run.bytes.toString('latin1') }, end: run.end };
  }
  const number = NUMBER.exec(head);
  return number ? { literal: { type: 'number', text: number[0] }, end: at + number[0].length } : undefined;
}

/**
 * The literals of an Execute entry whose statement is `preparedSql`, or a reason it does not have that shape. Each
 * fragment between markers must appear exactly; a literal is read where a marker was.
 */
export function executeLiterals(argument: Buffer, preparedSql: string): LogLiteral[] | string {
  const fragments = placeholderFragments(preparedSql).map((text) => Buffer.from(text, 'utf8'));
  const literals: LogLiteral[] = [];
  let at = 0;
  for (const [index, fragment] of fragments.entries()) {
    if (!argument.subarray(at, at + fragment.length).equals(fragment)) return `text differs from the prepared statement at byte ${at}`;
    at += fragment.length;
    if (index === fragments.length - 1) break;
    const read = literalAt(argument, at);
    if (!read) return `no literal at byte ${at} (parameter ${index + 1})`;
    literals.push(read.literal);
    at = read.end;
  }
  return at === argument.length ? literals : `${argument.length - at} bytes after the statement`;
}

const HEX_PARAM = /^0x([0-9a-f]*)(?:…\[(\d+) bytes\])?$/;
const CUT_TEXT = /…\[(\d+) bytes\]$/s;

/** "…00" fractions are the server's padding of what the client sent. */
const temporalKey = (text: string): string => text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');

function sameBytes(logged: Buffer, recorded: Buffer, totalLength: number | undefined): boolean {
  if (totalLength === undefined) return logged.equals(recorded);
  return logged.length === totalLength && logged.subarray(0, recorded.length).equals(recorded);
}

function sameNumber(logged: string, recorded: string): boolean {
  if (logged === recorded) return true;
  if (/^-?\d+$/.test(logged) && /^-?\d+$/.test(recorded)) return BigInt(logged) === BigInt(recorded);
  const value = Number(recorded);
  // A FLOAT parameter: jitgate records the shortest text of the float32, the server prints it as a double.
  return Number(logged) === value || Number(logged) === Math.fround(value);
}

/** Whether the value the server logged is the value jitgate recorded for the parameter (null: SQL NULL). */
export function literalMatches(literal: LogLiteral, recorded: string | null): boolean {
  if (recorded === null || literal.type === 'null') return recorded === null && literal.type === 'null';
  switch (literal.type) {
    case 'number': return sameNumber(literal.text, recorded);
    case 'temporal': return temporalKey(literal.text) === temporalKey(recorded);
    case 'string': {
      const hex = HEX_PARAM.exec(recorded);
      if (hex && sameBytes(literal.bytes, Buffer.from(hex[1] ?? '', 'hex'), hex[2] === undefined ? undefined : Number(hex[2]))) return true;
      const cut = CUT_TEXT.exec(recorded);
      const text = cut ? recorded.slice(0, cut.index) : recorded;
      // Numbers mysql2 sends as strings (BigInt, DECIMAL) are strings on both sides too.
      return sameBytes(literal.bytes, Buffer.from(text, 'utf8'), cut ? Number(cut[1]) : undefined);
    }
  }
}
