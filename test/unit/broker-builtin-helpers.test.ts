// The builtin broker's pure helpers: quoting by each engine's rules, TLS modes per driver, and the scrubbing that
// keeps passwords out of error messages. Expected values are written from the PostgreSQL/MySQL docs and libpq's
// sslmode table, not produced by the code under test.
import { describe, expect, it } from 'vitest';
import { describeDatabaseError, scrubSecrets } from '../../src/credentials/builtin/errors.js';
import { mysqlAccount, quoteMysqlIdent, quotePgIdent, quotePgLiteral } from '../../src/credentials/builtin/quoting.js';
import { mysqlSslOptions, pgSslOptions } from '../../src/credentials/builtin/tls-options.js';

describe('quoting', () => {
  it('quotes PostgreSQL identifiers and literals as quote_ident / quote_literal do', () => {
    expect(quotePgIdent('jg_ro_x')).toBe('"jg_ro_x"');
    expect(quotePgIdent('we"ird')).toBe('"we""ird"');
    expect(quotePgLiteral("it's")).toBe("'it''s'");
    expect(quotePgLiteral('a\\b\'c')).toBe("E'a\\\\b''c'");
  });

  it('quotes MySQL names with backticks, which no sql_mode reads differently', () => {
    expect(quoteMysqlIdent('a`b')).toBe('`a``b`');
    expect(mysqlAccount('jg_ro_x', '%')).toBe('`jg_ro_x`@`%`');
    expect(mysqlAccount('u', "10.0.%\\'")).toBe("`u`@`10.0.%\\'`");
  });

  it('refuses NUL', () => {
    expect(() => quotePgIdent('a\0b')).toThrow('NUL');
    expect(() => quotePgLiteral('a\0b')).toThrow('NUL');
    expect(() => quoteMysqlIdent('a\0b')).toThrow('NUL');
  });
});

describe('TLS modes', () => {
  it('maps each mode for pg', () => {
    expect(pgSslOptions({ mode: 'disable' }, 'db')).toBe(false);
    expect(pgSslOptions({ mode: 'prefer' }, 'db')).toBe(false);
    expect(pgSslOptions({ mode: 'require' }, 'db')).toEqual({ rejectUnauthorized: false });
    const verifyCa = pgSslOptions({ mode: 'verify-ca', ca: 'PEM' }, 'db');
    expect(verifyCa).toMatchObject({ ca: 'PEM', rejectUnauthorized: true });
    // verify-ca skips the name check: any name passes.
    expect(verifyCa === false ? 'off' : verifyCa.checkServerIdentity?.('other', { subject: { CN: 'x' } } as never)).toBeUndefined();
    const verifyFull = pgSslOptions({ mode: 'verify-full' }, 'db.internal');
    expect(verifyFull).toMatchObject({ rejectUnauthorized: true });
    // verify-full checks the configured host, whatever name the driver passes.
    const mismatch = verifyFull === false ? undefined : verifyFull.checkServerIdentity?.('db.internal', { subject: { CN: 'elsewhere' }, subjectaltname: 'DNS:elsewhere' } as never);
    expect(mismatch).toBeInstanceOf(Error);
  });

  it('maps each mode for mysql2', () => {
    expect(mysqlSslOptions({ mode: 'disable' }, 'db')).toBeUndefined();
    expect(mysqlSslOptions({ mode: 'prefer' }, 'db')).toBeUndefined();
    expect(mysqlSslOptions({ mode: 'require' }, 'db')).toEqual({ rejectUnauthorized: false });
    expect(mysqlSslOptions({ mode: 'verify-ca', ca: 'PEM' }, 'db')).toEqual({ ca: 'PEM', rejectUnauthorized: true, verifyIdentity: false });
    expect(mysqlSslOptions({ mode: 'verify-full' }, 'db')).toEqual({ rejectUnauthorized: true, verifyIdentity: true });
    expect(() => mysqlSslOptions({ mode: 'verify-full' }, '10.0.0.5')).toThrow('needs a host name');
  });
});

describe('error text', () => {
  const password = 'Xy7Gk2mQ9pLrT4vW8zAbCdEfGhIjKlMn';

  it('removes a password, whole or cut short, and keeps the rest', () => {
    const message = `near 'IDENTIFED BY '${password}'' at line 1; near '${password.slice(0, 9)}' and 'ordinary words'`;
    expect(scrubSecrets(message, [password])).toBe("near 'IDENTIFED BY '[redacted]'' at line 1; near '[redacted]' and 'ordinary words'");
    expect(scrubSecrets('syntax error at or near "GRANTT"', [password])).toBe('syntax error at or near "GRANTT"');
  });

  it('describes a pg server error by SQLSTATE and a mysql2 one by errno, never by its SQL', () => {
    const pgError = Object.assign(new Error('syntax error at or near "GRANTT"'), { code: '42601', severity: 'ERROR', position: '1' });
    expect(describeDatabaseError(pgError)).toEqual({ code: '42601', text: 'SQLSTATE 42601: syntax error at or near "GRANTT"' });
    const mysqlError = Object.assign(new Error(`You have an error near '${password}'`), {
      errno: 1064, sqlState: '42000', code: 'ER_PARSE_ERROR', sqlMessage: `You have an error near '${password}'`,
      sql: `CREATE USER 'x' IDENTIFED BY '${password}'`,
    });
    expect(describeDatabaseError(mysqlError, [password])).toEqual({ code: '1064', text: "errno 1064 (SQLSTATE 42000): You have an error near '[redacted]'" });
    expect(describeDatabaseError(Object.assign(new AggregateError([Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })]), { code: 'ECONNREFUSED' })))
      .toEqual({ code: 'ECONNREFUSED', text: 'connect ECONNREFUSED 127.0.0.1:1' });
  });
});
