import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditSqlText, splitStatements } from '../../src/audit/statement-text.js';

describe('splitStatements', () => {
  it('keeps a single statement whole, with or without its trailing semicolon', () => {
    expect(splitStatements('select 1', 'postgres')).toEqual(['select 1']);
    expect(splitStatements('  select 1 ;  ', 'postgres')).toEqual(['select 1']);
    expect(splitStatements(' ; ', 'postgres')).toEqual([]);
  });

  it('splits at top-level semicolons only', () => {
    expect(splitStatements("select 'a;b'; select $$x;y$$; select \"c;d\" from t -- e;f\n; select 4", 'postgres'))
      .toEqual(["select 'a;b'", 'select $$x;y$$', 'select "c;d" from t -- e;f', 'select 4']);
    expect(splitStatements("insert into t values ('x;'); /* ; */ select `a;b` from t;", 'mysql'))
      .toEqual(["insert into t values ('x;')", '/* ; */ select `a;b` from t']);
  });
});

describe('auditSqlText', () => {
  it('redacts password literals', () => {
    expect(auditSqlText("ALTER ROLE x PASSWORD 'hunter22'", 'postgres').sql).not.toContain('hunter22');
    expect(auditSqlText('select password from users', 'postgres').sql).toBe('select password from users');
  });

  it('cuts oversized text and records length and hash of the original', () => {
    const sql = `select '${'x'.repeat(5000)}'`;
    const result = auditSqlText(sql, 'postgres', 1000);
    expect(Buffer.byteLength(result.sql)).toBe(1000);
    expect(sql.startsWith(result.sql)).toBe(true);
    expect(result.truncated).toEqual({ length: 5009, sha256: createHash('sha256').update(sql).digest('hex') });
    expect(auditSqlText('select 1', 'postgres', 1000)).toEqual({ sql: 'select 1' });
  });
});
