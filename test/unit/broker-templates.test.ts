// Statement templates, lease user names and passwords of the builtin broker. Expected strings are written out by
// hand from VAULT.md §2 (template syntax, Go's `2006-01-02 15:04:05-0700` layout) and the engines' name limits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grantSuffix, newGrantId, type GrantId } from '../../src/access/ids.js';
import { parseConfigText } from '../../src/config/load.js';
import type { ResourceConfig } from '../../src/config/schema.js';
import {
  builtinLeaseId, generatePassword, grantSuffixOfUsername, leaseUsername, PASSWORD_ALPHABET,
} from '../../src/credentials/builtin/lease-user.js';
import { ceilToSecond, formatExpiration, renderStatements, validateRoleTemplates } from '../../src/credentials/builtin/templates.js';
import { parseManagedUsername } from '../../src/credentials/managed-users.js';

const GRANT = 'g_abcdefghijklmnopqrst' as GrantId;
const PASSWORD = 'Pw0123456789abcdefghijklmnopqrsT';
const AT = new Date(Date.UTC(2026, 2, 1, 14, 5, 9, 250));
const PG = { protocol: 'postgres', database: 'orders' } as const;
const MY = { protocol: 'mysql', database: 'orders' } as const;

describe('renderStatements', () => {
  it('fills name, username, password and expiration as plain text', () => {
    const rendered = renderStatements('creation_statements', [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{username}}"; COMMENT ON ROLE "{{name}}" IS 'jitgate'`,
    ], { name: 'jg_readonly_abcdefghijklmnopqrst', password: PASSWORD, expiration: AT }, PG);
    expect(rendered).toEqual([
      `CREATE ROLE "jg_readonly_abcdefghijklmnopqrst" WITH LOGIN PASSWORD 'Pw0123456789abcdefghijklmnopqrsT' VALID UNTIL '2026-03-01 14:05:09+0000'`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO "jg_readonly_abcdefghijklmnopqrst"; COMMENT ON ROLE "jg_readonly_abcdefghijklmnopqrst" IS 'jitgate'`,
    ]);
  });

  it('renders MySQL accounts the same way', () => {
    expect(renderStatements('creation_statements', ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'"], { name: 'jg_ro_x', password: PASSWORD }, MY))
      .toEqual(["CREATE USER 'jg_ro_x'@'%' IDENTIFIED BY 'Pw0123456789abcdefghijklmnopqrsT'"]);
  });

  it('refuses a value outside its safe alphabet, without echoing it', () => {
    const render = (name: string, password: string) => () =>
      renderStatements('creation_statements', ["CREATE USER '{{name}}' IDENTIFIED BY '{{password}}'"], { name, password }, MY);
    expect(render(`x'; DROP USER root; --`, PASSWORD)).toThrow('value for {{name}} is outside its safe alphabet');
    expect(render('jg_ok', `${PASSWORD}'`)).toThrow('value for {{password}} is outside its safe alphabet');
    try {
      render('jg_ok', `${PASSWORD}'`)();
    } catch (error) {
      expect(String(error)).not.toContain(PASSWORD);
    }
  });

  it('refuses placeholders a list cannot know', () => {
    expect(() => renderStatements('revocation_statements', ["ALTER USER '{{name}}' PASSWORD '{{password}}'"], { name: 'jg_x', password: PASSWORD }, MY))
      .toThrow('revocation_statements: {{password}} cannot be rendered here');
    expect(() => renderStatements('creation_statements', ['CREATE ROLE "{{nmae}}"'], { name: 'jg_x' }, PG)).toThrow('{{nmae}}');
  });
});

describe('{{database}}', () => {
  const render = (target: { protocol: 'postgres' | 'mysql'; database: string }, statement: string, field: 'creation_statements' | 'revocation_statements' = 'creation_statements'): string =>
    renderStatements(field, [statement], { name: 'jg_x', password: PASSWORD }, target)[0] ?? '';

  it('is the resource database, quoted for the MySQL context it stands in', () => {
    const odd = { protocol: 'mysql', database: 'acc\\db' } as const;
    expect(render(MY, "GRANT SELECT ON `{{database}}`.* TO '{{name}}'@'%'")).toBe("GRANT SELECT ON `orders`.* TO 'jg_x'@'%'");
    expect(render(MY, "GRANT SELECT ON {{database}}.* TO '{{name}}'@'%'")).toBe("GRANT SELECT ON `orders`.* TO 'jg_x'@'%'");
    expect(render({ protocol: 'mysql', database: 'a`b' }, 'GRANT SELECT ON `{{database}}`.* TO x')).toBe('GRANT SELECT ON `a``b`.* TO x');
    expect(render({ protocol: 'mysql', database: 'a`b' }, 'GRANT SELECT ON {{database}}.* TO x')).toBe('GRANT SELECT ON `a``b`.* TO x');
    expect(render({ protocol: 'mysql', database: "a'b" }, "SELECT '{{database}}'")).toBe("SELECT 'a''b'");
    expect(render({ protocol: 'mysql', database: 'a"b' }, 'SELECT "{{database}}"')).toBe('SELECT "a""b"');
    // A backtick name never processes backslashes; a '…' literal may (unless NO_BACKSLASH_ESCAPES).
    expect(render({ protocol: 'mysql', database: 'a\\b' }, 'GRANT ALL ON `{{database}}`.* TO x')).toBe('GRANT ALL ON `a\\b`.* TO x');
    expect(() => render(odd, "SELECT '{{database}}'")).toThrow(/creation_statements\[0\]: \{\{database\}\}: the database name contains a backslash/);
  });

  it('is quoted for the PostgreSQL context it stands in', () => {
    expect(render(PG, 'GRANT CONNECT ON DATABASE "{{database}}" TO "{{name}}"')).toBe('GRANT CONNECT ON DATABASE "orders" TO "jg_x"');
    expect(render(PG, 'GRANT CONNECT ON DATABASE {{database}} TO "{{name}}"')).toBe('GRANT CONNECT ON DATABASE "orders" TO "jg_x"');
    expect(render({ protocol: 'postgres', database: 'My"Db' }, 'GRANT CONNECT ON DATABASE {{database}} TO x')).toBe('GRANT CONNECT ON DATABASE "My""Db" TO x');
    expect(render({ protocol: 'postgres', database: 'My"Db' }, 'GRANT CONNECT ON DATABASE "{{database}}" TO x')).toBe('GRANT CONNECT ON DATABASE "My""Db" TO x');
    expect(render({ protocol: 'postgres', database: "it's" }, "COMMENT ON ROLE x IS 'reads {{database}}'")).toBe("COMMENT ON ROLE x IS 'reads it''s'");
    expect(render(PG, 'REVOKE ALL ON DATABASE {{database}} FROM "{{name}}"', 'revocation_statements')).toBe('REVOKE ALL ON DATABASE "orders" FROM "jg_x"');
  });

  it('refuses the spots no quoting makes safe', () => {
    const cases: [string, RegExp][] = [
      ["DO $$BEGIN EXECUTE 'GRANT CONNECT ON DATABASE {{database}} TO x'; END$$", /inside a dollar-quoted body/],
      ['GRANT CONNECT ON DATABASE x /* {{database}} */ TO y', /inside a comment/],
      ['GRANT CONNECT ON DATABASE {{database}}_archive TO y', /glued to other text/],
      ['GRANT CONNECT ON DATABASE x{{database}} TO y', /glued to other text/],
    ];
    for (const [statement, problem] of cases) expect(() => render(PG, statement), statement).toThrow(problem);
    expect(() => render({ protocol: 'postgres', database: 'a\\b' }, "COMMENT ON ROLE x IS '{{database}}'")).toThrow(/backslash/);
    expect(() => render({ protocol: 'postgres', database: 'a\0b' }, 'GRANT CONNECT ON DATABASE "{{database}}" TO x')).toThrow(/NUL/);
  });

  it('is a config error naming resource, role and statement where it cannot be quoted, and never echoes the name', () => {
    const resource = resourceWith('mysql', `
      readonly:
        max_ttl: 1h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON {{database}}_archive.* TO '{{name}}'@'%'
          - "GRANT SELECT ON \`{{database}}\`.* TO '{{name}}'@'%' # {{database}}"
`);
    expect(validateRoleTemplates(resource).map((problem) => problem.message)).toEqual([
      'resource "orders" role "readonly" creation_statements[1]: {{database}} cannot be quoted safely glued to other text (write it alone, where an identifier goes, or inside quotes)',
      'resource "orders" role "readonly" creation_statements[2]: {{database}} cannot be quoted safely inside a comment',
    ]);
    const backslashed = { ...resource, database: 'acc\\db' };
    expect(validateRoleTemplates({ ...backslashed, roles: { ro: { max_ttl: 60, creation_statements: ["CREATE USER '{{name}}' IDENTIFIED BY '{{password}}' COMMENT '{{database}}'"] } } })
      .map((problem) => problem.message)).toEqual([
      'resource "orders" role "ro" creation_statements[0]: {{database}}: the database name contains a backslash, which may act as an escape inside \'…\'',
    ]);
  });
});

describe('expiration', () => {
  it("uses Go's 2006-01-02 15:04:05-0700 layout in UTC", () => {
    expect(formatExpiration(AT)).toBe('2026-03-01 14:05:09+0000');
    expect(formatExpiration(new Date(Date.UTC(2027, 11, 31, 23, 59, 59)))).toBe('2027-12-31 23:59:59+0000');
    expect(formatExpiration(new Date('2026-07-04T00:00:00-07:00'))).toBe('2026-07-04 07:00:00+0000');
  });

  it('rounds up to the second, so the database never ends the user before the lease', () => {
    expect(ceilToSecond(AT).toISOString()).toBe('2026-03-01T14:05:10.000Z');
    expect(ceilToSecond(new Date('2026-03-01T14:05:09.000Z')).toISOString()).toBe('2026-03-01T14:05:09.000Z');
  });
});

describe('lease user names', () => {
  const MARK = '4q7zk';

  it('is jg_<deployment mark>_<role>_<grant suffix>', () => {
    expect(leaseUsername('postgres', 'readonly', GRANT, MARK)).toBe('jg_4q7zk_readonly_abcdefghijklmnopqrst');
    expect(leaseUsername('mysql', 'ro', GRANT, MARK)).toBe('jg_4q7zk_ro_abcdefghijklmnopqrst');
    expect(builtinLeaseId('orders-pg', 'jg_4q7zk_readonly_abcdefghijklmnopqrst')).toBe('builtin/orders-pg/jg_4q7zk_readonly_abcdefghijklmnopqrst');
    expect(() => leaseUsername('postgres', 'readonly', GRANT, 'q7zk4')).toThrow('not a deployment mark'); // a mark starts with a digit
  });

  it('cuts the role so a MySQL name is at most 32 characters (2 of them the role\'s), and keeps PostgreSQL names within 63', () => {
    const mysql = leaseUsername('mysql', 'reporting_team_x', GRANT, MARK);
    expect(mysql).toBe('jg_4q7zk_re_abcdefghijklmnopqrst');
    expect(mysql).toHaveLength(32);
    expect(leaseUsername('mysql', 'readwrite', GRANT, MARK)).toHaveLength(32); // jg_readwrite_<20> was 33 (issue 19)
    // Every role the config allows (16 characters at most) fits whole on PostgreSQL.
    const pg = leaseUsername('postgres', 'reporting_team_x', GRANT, MARK);
    expect(pg).toBe('jg_4q7zk_reporting_team_x_abcdefghijklmnopqrst');
    expect(Buffer.byteLength(leaseUsername('postgres', 'r'.repeat(80), GRANT, MARK))).toBe(63);
  });

  it('maps a user name back to its grant, role and mark, for every role shape, and reads names from before marks', () => {
    for (const role of ['readonly', 'read_only', 'a', 'reporting_team_x', 'x_']) {
      for (const protocol of ['postgres', 'mysql'] as const) {
        const grantId = newGrantId();
        const name = leaseUsername(protocol, role, grantId, MARK);
        const suffix = grantSuffixOfUsername(name);
        expect(suffix).toBe(grantSuffix(grantId));
        expect(`g_${suffix}`).toBe(grantId);
        expect(parseManagedUsername(name)).toEqual({ grantId, role: protocol === 'mysql' ? role.slice(0, 2) : role, mark: MARK });
      }
    }
    expect(parseManagedUsername('jg_readonly_abcdefghijklmnopqrst')).toEqual({ grantId: GRANT, role: 'readonly', mark: undefined });
    // A legacy role starting with five base32 letters is not read as a mark: marks start with a digit, roles with a letter.
    expect(parseManagedUsername('jg_admin_rw_abcdefghijklmnopqrst')).toEqual({ grantId: GRANT, role: 'admin_rw', mark: undefined });
  });

  it('finds no grant in names jitgate did not make', () => {
    for (const name of ['postgres', 'jg_', 'jg_readonly', 'jg_readonly_abcdefghijklmnopqrs', 'jg_readonly_abcdefghijklmnopqrstu',
      'jg_readonly_ABCDEFGHIJKLMNOPQRST', 'jg_readonly_abcdefghijklmnopqrs1', 'xg_readonly_abcdefghijklmnopqrst', 'jg_read-only_abcdefghijklmnopqrst',
      'jg_4q7zk_readonly_ABCDEFGHIJKLMNOPQRST', 'jg_4q7z_readonly_abcdefghijklmnopqrst', 'jg_4q7zkreadonly_abcdefghijklmnopqrst']) {
      expect(grantSuffixOfUsername(name), name).toBeUndefined();
    }
  });

  it('refuses a role that could not be part of a name', () => {
    expect(() => leaseUsername('postgres', 'Read"Only', GRANT, MARK)).toThrow('cannot be part of a database user name');
  });
});

describe('passwords', () => {
  it('are 32 letters and digits, different every time, drawn from the whole alphabet', () => {
    const passwords = Array.from({ length: 500 }, () => generatePassword().reveal());
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
    const seen = new Set(passwords.join(''));
    expect([...PASSWORD_ALPHABET].filter((char) => !seen.has(char))).toEqual([]); // 16000 draws: each char ~258 times
  });

  it('never print', () => {
    const password = generatePassword();
    expect(JSON.stringify({ password })).toBe('{"password":"[redacted]"}');
    expect(`${password}`).toBe('[redacted]');
  });
});

const resourceWith = (protocol: 'postgres' | 'mysql', roles: string): ResourceConfig => {
  const config = parseConfigText(`
resources:
  - name: orders
    protocol: ${protocol}
    host: db
    port: 5432
    database: orders
    admin: { user: admin }
    roles:
${roles}`, { env: {}, skipTemplateCheck: true });
  const resource = config.resources[0];
  if (resource === undefined) throw new Error('no resource');
  return resource;
};

describe('validateRoleTemplates', () => {
  it('names resource, role, statement and the unknown placeholder', () => {
    const resource = resourceWith('postgres', `
      readonly:
        max_ttl: 1h
        creation_statements:
          - CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'
          - GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{nmae}}"
`);
    expect(validateRoleTemplates(resource).map((problem) => problem.message)).toEqual([
      'resource "orders" role "readonly" creation_statements[1]: unknown placeholder {{nmae}} (known: {{name}}, {{username}}, {{password}}, {{expiration}}, {{database}})',
    ]);
  });

  it('reports placeholders a list cannot use, secrets outside quotes, stray braces, and missing name or password', () => {
    const resource = resourceWith('mysql', `
      bad:
        max_ttl: 1h
        creation_statements:
          - CREATE USER {{name}} IDENTIFIED BY {{password}}
          - "GRANT SELECT ON app.* TO '{{name}}'@'%' -- {{ name }"
        revocation_statements:
          - ALTER USER '{{name}}' IDENTIFIED BY '{{password}}'
      nameless:
        max_ttl: 1h
        creation_statements:
          - CREATE USER 'fixed'@'%'
`);
    expect(validateRoleTemplates(resource).map((problem) => `${problem.role} ${problem.field}: ${problem.message.split(': ').slice(1).join(': ')}`)).toEqual([
      "bad creation_statements[0]: {{password}} must sit inside a quoted string literal ('{{password}}')",
      'bad creation_statements[1]: unbalanced "{{" or "}}"',
      'bad revocation_statements[0]: {{password}} is not available in revocation_statements (available: {{name}}, {{username}}, {{database}})',
      'nameless creation_statements: no statement uses {{name}}, so the lease user would never be created',
      'nameless creation_statements: no statement uses {{password}}: the lease user would have no password jitgate knows',
    ]);
  });

  it('accepts a password inside a PostgreSQL dollar-quoted block', () => {
    const resource = resourceWith('postgres', `
      scripted:
        max_ttl: 1h
        creation_statements:
          - DO $$BEGIN CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; END$$
`);
    expect(validateRoleTemplates(resource)).toEqual([]);
  });

  it('passes the example role files and the bundled config, each a complete config', () => {
    const files = ['config/examples/roles-postgres.yaml', 'config/examples/roles-mysql.yaml', 'config/jitgate.yaml'];
    for (const file of files) {
      const config = parseConfigText(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), { env: {} });
      expect(config.resources.length, file).toBeGreaterThan(0);
      for (const resource of config.resources) {
        expect(Object.keys(resource.roles), file).toEqual(expect.arrayContaining(['readonly', 'readwrite']));
        expect(validateRoleTemplates(resource), file).toEqual([]);
      }
    }
  });
});
