// What a statement's SQL looks like in the audit trail: split per statement (a multi-statement Query or COM_QUERY
// is several events), secrets removed, and oversized text cut with its original length and hash kept (DESIGN §10:
// never drop the event, mark the truncation).
import { createHash } from 'node:crypto';
import { redactPasswordLiterals } from './password-literals.js';
import { scanSqlTokens, type SqlDialect } from './sql-scan.js';

/** SQL kept whole up to this many bytes per statement; longer text keeps its head plus length and SHA-256. */
export const DEFAULT_MAX_AUDIT_SQL_BYTES = 1024 * 1024;

/** Splits at top-level semicolons (not inside strings, quoted names, comments or dollar quotes). */
export function splitStatements(sql: string, dialect: SqlDialect): string[] {
  const firstSemicolon = sql.indexOf(';');
  // The common case — one statement, maybe with a trailing `;` — needs no tokenizer.
  if (firstSemicolon === -1 || sql.slice(firstSemicolon + 1).trim() === '') {
    const single = (firstSemicolon === -1 ? sql : sql.slice(0, firstSemicolon)).trim();
    return single === '' ? [] : [single];
  }
  const parts: string[] = [];
  let start = 0;
  for (const token of scanSqlTokens(sql, dialect)) {
    if (token.kind !== 'semicolon') continue;
    const part = sql.slice(start, token.start).trim();
    if (part !== '') parts.push(part);
    start = token.end;
  }
  const last = sql.slice(start).trim();
  if (last !== '') parts.push(last);
  return parts;
}

const MAY_HOLD_PASSWORD = /password|identified/i;

export interface AuditSqlText {
  readonly sql: string;
  readonly truncated?: { readonly length: number; readonly sha256: string };
}

/**
 * The text recorded for one statement: password literals redacted (unless the caller already took every literal),
 * cut at `maxBytes` with the cut recorded.
 */
export function auditSqlText(sql: string, dialect: SqlDialect, maxBytes = DEFAULT_MAX_AUDIT_SQL_BYTES, redactPasswords = true): AuditSqlText {
  const clean = redactPasswords && MAY_HOLD_PASSWORD.test(sql) ? redactPasswordLiterals(sql, dialect) : sql;
  // String length is a lower bound of the UTF-8 size, so short text skips the byte count.
  if (clean.length * 3 <= maxBytes) return { sql: clean };
  const bytes = Buffer.from(clean, 'utf8');
  if (bytes.length <= maxBytes) return { sql: clean };
  const head = bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return { sql: head, truncated: { length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}
