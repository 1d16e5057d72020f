// `audit.parameters: redact`: literal values in SQL become placeholders. PostgreSQL text goes through libpg-query's
// normalize (the server's own lexer: `where a = 'x'` → `where a = $1`); MySQL text, or PG text the parser rejects,
// through the quote-aware scanner, which replaces strings and numbers with `?`. Never by a regex over the text.
import { normalizeSync } from 'libpg-query';
import { scanSqlTokens, type SqlDialect } from './sql-scan.js';

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$|^0x[0-9a-f]+$/i;

function redactByTokens(sql: string, dialect: SqlDialect): string {
  let out = '';
  let last = 0;
  for (const token of scanSqlTokens(sql, dialect)) {
    const text = sql.slice(token.start, token.end);
    if (token.kind === 'string' || (token.kind === 'word' && NUMBER.test(text))) {
      out += `${sql.slice(last, token.start)}?`;
      last = token.end;
    }
  }
  return out + sql.slice(last);
}

export function redactLiterals(sql: string, dialect: SqlDialect): string {
  if (dialect === 'postgres') {
    try {
      return normalizeSync(sql);
    } catch {
      // Not parseable (or the WASM module not loaded yet): the scanner still removes every literal.
    }
  }
  return redactByTokens(sql, dialect);
}
