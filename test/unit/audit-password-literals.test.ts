import { describe, expect, it } from 'vitest';
import { redactPasswordLiterals } from '../../src/audit/redact.js';

const R = "'[redacted]'";

describe('redactPasswordLiterals', () => {
  it.each([
    ['PG CREATE ROLE with a doubled quote', "CREATE ROLE x WITH LOGIN PASSWORD 'se''cret'", `CREATE ROLE x WITH LOGIN PASSWORD ${R}`],
    ['PG ALTER USER with dollar quoting', 'ALTER USER x PASSWORD $$p$$', `ALTER USER x PASSWORD ${R}`],
    ['PG tagged dollar quoting holding $$', "ALTER USER x PASSWORD $pw$a$$b'c$pw$ VALID UNTIL 'infinity'", `ALTER USER x PASSWORD ${R} VALID UNTIL 'infinity'`],
    ['PG ENCRYPTED PASSWORD, lower case', "create user app with encrypted password 'SCRAM-SHA-256$4096:abc'", `create user app with encrypted password ${R}`],
    ['PG E-string with a backslash-escaped quote', "ALTER ROLE x PASSWORD E'a\\'b' LOGIN", `ALTER ROLE x PASSWORD ${R} LOGIN`],
    ['PG quoted role name', 'ALTER ROLE "Password" PASSWORD \'x\'', `ALTER ROLE "Password" PASSWORD ${R}`],
    ['PG user mapping option', "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'pw')", `CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password ${R})`],
    ['PG comments between keyword and literal', "ALTER USER x PASSWORD /* c */ -- c\n 'p'", `ALTER USER x PASSWORD /* c */ -- c\n ${R}`],
    ['MySQL IDENTIFIED BY with a backslash escape', "CREATE USER 'a'@'%' IDENTIFIED BY 'p\\'w'", `CREATE USER 'a'@'%' IDENTIFIED BY ${R}`],
    ['MySQL IDENTIFIED WITH plugin BY', "CREATE USER 'a'@'%' IDENTIFIED WITH mysql_native_password BY 'x'", `CREATE USER 'a'@'%' IDENTIFIED WITH mysql_native_password BY ${R}`],
    ['MySQL IDENTIFIED WITH plugin AS hash', "ALTER USER u IDENTIFIED WITH caching_sha2_password AS '$A$005$xyz'", `ALTER USER u IDENTIFIED WITH caching_sha2_password AS ${R}`],
    ['MySQL double-quoted password', 'CREATE USER u IDENTIFIED BY "p\\"w"', `CREATE USER u IDENTIFIED BY ${R}`],
    ['MySQL REPLACE of the current password', "ALTER USER u IDENTIFIED BY 'new' REPLACE 'old' RETAIN CURRENT PASSWORD", `ALTER USER u IDENTIFIED BY ${R} REPLACE ${R} RETAIN CURRENT PASSWORD`],
    ['MySQL charset introducer', "ALTER USER u IDENTIFIED BY _utf8mb4'x'", `ALTER USER u IDENTIFIED BY ${R}`],
    ['MySQL adjacent literals are concatenated', "ALTER USER u IDENTIFIED BY 'pa' 'ss' ACCOUNT LOCK", `ALTER USER u IDENTIFIED BY ${R} ${R} ACCOUNT LOCK`],
    ['MySQL several users', "CREATE USER 'a' IDENTIFIED BY 'x', 'b'@'h' IDENTIFIED BY 'y'", `CREATE USER 'a' IDENTIFIED BY ${R}, 'b'@'h' IDENTIFIED BY ${R}`],
    ['MySQL SET PASSWORD', "SET PASSWORD FOR 'u'@'%' = 'x'", `SET PASSWORD FOR 'u'@'%' = ${R}`],
    ['MySQL SET PASSWORD = PASSWORD()', "SET PASSWORD = PASSWORD('x')", `SET PASSWORD = PASSWORD(${R})`],
    ['MariaDB IDENTIFIED VIA … USING PASSWORD()', "CREATE OR REPLACE USER u IDENTIFIED VIA ed25519 USING PASSWORD('x') OR unix_socket", `CREATE OR REPLACE USER u IDENTIFIED VIA ed25519 USING PASSWORD(${R}) OR unix_socket`],
    ['MariaDB IDENTIFIED VIA … USING hash', "ALTER USER u IDENTIFIED VIA mysql_native_password USING '*ABC'", `ALTER USER u IDENTIFIED VIA mysql_native_password USING ${R}`],
    ['MariaDB GRANT … IDENTIFIED BY', "GRANT ALL ON db.* TO 'u'@'%' IDENTIFIED BY 'x'", `GRANT ALL ON db.* TO 'u'@'%' IDENTIFIED BY ${R}`],
    ['MySQL executable comment', "/*!80000 ALTER USER u IDENTIFIED BY 'x' */", `/*!80000 ALTER USER u IDENTIFIED BY ${R} */`],
    ['second statement of a multi-statement query', "SELECT 'a;b'; ALTER USER x PASSWORD 'p'; SELECT 1", `SELECT 'a;b'; ALTER USER x PASSWORD ${R}; SELECT 1`],
    ['unterminated literal runs to the end', "ALTER USER x PASSWORD 'abc", `ALTER USER x PASSWORD ${R}`],
  ])('%s', (_name, sql, expected) => {
    expect(redactPasswordLiterals(sql)).toBe(expected);
  });

  it.each([
    ['a column named password', "SELECT password FROM users WHERE name = 'x'"],
    ['an application table being updated', "UPDATE users SET password = 'hash' WHERE id = 1"],
    ['an insert whose string mentions a password', "INSERT INTO notes VALUES ('ALTER USER x PASSWORD ''y''')"],
    ['a password statement inside a string', "SELECT 'CREATE USER u IDENTIFIED BY ''x'''"],
    ['a comment that mentions a password', "SELECT 1 /* ALTER USER x PASSWORD 'y' */"],
    ['a PG setting', "SET password_encryption = 'scram-sha-256'"],
    ['PASSWORD clauses without a literal', 'ALTER USER u PASSWORD EXPIRE INTERVAL 90 DAY'],
    ['PG PASSWORD NULL and VALID UNTIL', "ALTER ROLE r PASSWORD NULL VALID UNTIL '2030-01-01'"],
    ['a MySQL user name and comment', "CREATE USER 'password'@'%' COMMENT 'reset password monthly'"],
    ['a dollar-quoted function body', "CREATE FUNCTION f() RETURNS text AS $$ SELECT 'password' $$ LANGUAGE sql"],
    ['no password words at all', "SELECT * FROM t WHERE a = 'b'"],
    ['a literal in an account statement that quotes the keyword', "ALTER ROLE x VALID UNTIL 'PASSWORD ''y'''"],
    ['a MySQL account comment that quotes the keyword', "ALTER USER u COMMENT 'IDENTIFIED BY ''x'''"],
  ])('keeps %s intact', (_name, sql) => {
    expect(redactPasswordLiterals(sql)).toBe(sql);
  });

  it('with a dialect, follows only that dialect\'s quoting', () => {
    // In PostgreSQL (standard_conforming_strings on) a backslash is an ordinary character.
    expect(redactPasswordLiterals("ALTER USER x PASSWORD 'a\\' VALID UNTIL 'infinity'", 'postgres'))
      .toBe(`ALTER USER x PASSWORD ${R} VALID UNTIL 'infinity'`);
    // MySQL reads `#` as a comment and `"…"` as a string.
    expect(redactPasswordLiterals("ALTER USER u # PASSWORD 'c'\n IDENTIFIED BY \"x\"", 'mysql'))
      .toBe(`ALTER USER u # PASSWORD 'c'\n IDENTIFIED BY ${R}`);
  });

  it('follows PostgreSQL nested comments', () => {
    expect(redactPasswordLiterals("ALTER USER x /* a /* b */ PASSWORD 'no' */ PASSWORD 'p'", 'postgres'))
      .toBe(`ALTER USER x /* a /* b */ PASSWORD 'no' */ PASSWORD ${R}`);
  });

  it('without a dialect, is not fooled by a quote in a MySQL # comment', () => {
    // Read as PostgreSQL, the apostrophe opens a string that hides the password; MySQL's reading still finds it.
    expect(redactPasswordLiterals("ALTER USER u # don't\n IDENTIFIED BY 'x'")).toBe(`ALTER USER u # don't\n IDENTIFIED BY ${R}`);
  });

  it('without a dialect, removes the longer reading of an ambiguous literal', () => {
    // MySQL reads 'a\' … ' as one literal; PG reads 'a\'. Neither reading may leave a piece of the password behind.
    expect(redactPasswordLiterals("ALTER USER x PASSWORD 'a\\'b'")).toBe(`ALTER USER x PASSWORD ${R}`);
  });
});
