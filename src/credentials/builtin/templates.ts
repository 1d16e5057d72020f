// Vault-compatible statement templates (VAULT.md §2): `{{name}}` / `{{username}}`, `{{password}}` and
// `{{expiration}}`, replaced as plain text, plus jitgate's own `{{database}}`, the resource's database. Plain
// replacement is safe for the first four, and only for them, because every value we substitute comes from a
// restricted alphabet that cannot end a quoted string or identifier, start a comment or a new statement
// (`[a-z0-9_]` names, `[A-Za-z0-9]` passwords, a fixed timestamp layout); `renderStatements` asserts that before it
// substitutes. The database name is the operator's and may hold anything, so it is quoted for where it stands
// (database-placeholder.ts). Templates are also checked when the config is checked, so a typo such as `{{nmae}}`
// or an unquotable `{{database}}` fails `jitgate config check`, not the first grant at 3 a.m.
import { scanSqlTokens, type SqlDialect, type SqlToken } from '../../audit/sql-scan.js';
import type { ResourceConfig, RoleConfig } from '../../config/schema.js';
import { databaseText } from './database-placeholder.js';

export const PLACEHOLDERS = ['name', 'username', 'password', 'expiration', 'database'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export type StatementField = 'creation_statements' | 'rollback_statements' | 'revocation_statements' | 'renew_statements';
export const STATEMENT_FIELDS: readonly StatementField[] = ['creation_statements', 'rollback_statements', 'revocation_statements', 'renew_statements'];

/**
 * What each list may use, as in Vault: only creation knows the password; only creation and renew know the end. The
 * database is the resource's, known to every list.
 */
const AVAILABLE: Record<StatementField, readonly Placeholder[]> = {
  creation_statements: ['name', 'username', 'password', 'expiration', 'database'],
  renew_statements: ['name', 'username', 'expiration', 'database'],
  rollback_statements: ['name', 'username', 'database'],
  revocation_statements: ['name', 'username', 'database'],
};

/** The values a list is rendered with; a placeholder whose value is missing is a programming error. */
export interface TemplateValues {
  readonly name: string;
  readonly password?: string;
  readonly expiration?: Date;
}

/** Where a list is rendered: the resource's engine (how `{{database}}` is quoted) and database. */
export interface TemplateTarget {
  readonly protocol: ResourceConfig['protocol'];
  readonly database: string;
}

type PlainPlaceholder = Exclude<Placeholder, 'database'>;

// What makes plain substitution safe: none of these alphabets contains a quote, backslash, `;`, `-`, `#`, `/`, `$`.
const SAFE_VALUE: Record<PlainPlaceholder, RegExp> = {
  name: /^[a-z0-9_]{1,63}$/,
  username: /^[a-z0-9_]{1,63}$/,
  password: /^[A-Za-z0-9]{16,128}$/,
  expiration: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+0000$/,
};

const PLACEHOLDER_PATTERN = /\{\{(.*?)\}\}/g;

const isPlaceholder = (text: string): text is Placeholder => (PLACEHOLDERS as readonly string[]).includes(text);

/** Vault's layout, Go `2006-01-02 15:04:05-0700`, always in UTC: `2026-03-01 14:05:09+0000`. */
export function formatExpiration(date: Date): string {
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} `
    + `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}+0000`;
}

/** The layout has whole seconds; rounding up keeps the database's end from falling before the lease's. */
export const ceilToSecond = (date: Date): Date => new Date(Math.ceil(date.getTime() / 1_000) * 1_000);

const dialectOf = (protocol: ResourceConfig['protocol']): SqlDialect => (protocol === 'postgres' ? 'postgres' : 'mysql');

function valueOf(placeholder: PlainPlaceholder, values: TemplateValues): string {
  switch (placeholder) {
    case 'name':
    case 'username':
      return values.name;
    case 'password':
      if (values.password === undefined) throw new Error('{{password}} rendered without a password');
      return values.password;
    case 'expiration':
      if (values.expiration === undefined) throw new Error('{{expiration}} rendered without an expiration');
      return formatExpiration(values.expiration);
  }
}

/**
 * Renders one list for `target`. Throws on a placeholder the list may not use, a value outside its safe alphabet, or
 * a `{{database}}` that cannot be quoted where it stands (validateRole reports the same at config load).
 */
export function renderStatements(field: StatementField, statements: readonly string[], values: TemplateValues, target: TemplateTarget): string[] {
  const resolved = new Map<Placeholder, string>();
  for (const placeholder of AVAILABLE[field]) {
    if (placeholder === 'database') continue;
    if (placeholder === 'password' && values.password === undefined) continue;
    if (placeholder === 'expiration' && values.expiration === undefined) continue;
    const value = valueOf(placeholder, values);
    // Never echo the value: for the password that would be the leak this check exists to prevent.
    if (!SAFE_VALUE[placeholder].test(value)) throw new Error(`value for {{${placeholder}}} is outside its safe alphabet`);
    resolved.set(placeholder, value);
  }
  const dialect = dialectOf(target.protocol);
  return statements.map((statement, index) => {
    let tokens: SqlToken[] | undefined;
    return statement.replace(PLACEHOLDER_PATTERN, (whole, inner: string, offset: number) => {
      if (inner === 'database' && AVAILABLE[field].includes('database')) {
        tokens ??= scanSqlTokens(statement, dialect);
        const placed = databaseText(statement, offset, tokens, dialect, target.database);
        if ('problem' in placed) throw new Error(`${field}[${index}]: ${placed.problem}`);
        return placed.text;
      }
      const value = isPlaceholder(inner) ? resolved.get(inner) : undefined;
      if (value === undefined) throw new Error(`${field}: ${whole} cannot be rendered here`);
      return value;
    });
  });
}

export interface TemplateProblem {
  readonly resource: string;
  readonly role: string;
  /** `creation_statements[1]` */
  readonly field: string;
  /** Names the resource, role, statement and placeholder. */
  readonly message: string;
}

/** Checks every builtin role of `resource`; an empty list means every template renders. */
export function validateRoleTemplates(resource: ResourceConfig): TemplateProblem[] {
  if (resource.broker !== 'builtin') return [];
  return Object.entries(resource.roles).flatMap(([role, config]) => validateRole(resource, role, config));
}

export function validateRole(resource: Pick<ResourceConfig, 'name' | 'protocol' | 'database'>, role: string, config: RoleConfig): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const report = (field: string, text: string): void => {
    problems.push({ resource: resource.name, role, field, message: `resource "${resource.name}" role "${role}" ${field}: ${text}` });
  };
  const dialect = dialectOf(resource.protocol);
  for (const field of STATEMENT_FIELDS) {
    (config[field] ?? []).forEach((statement, index) => {
      for (const text of statementProblems(field, statement, dialect, resource.database)) report(`${field}[${index}]`, text);
    });
  }
  const creation = config.creation_statements ?? [];
  const uses = (placeholder: Placeholder): boolean => creation.some((statement) => statement.includes(`{{${placeholder}}}`));
  if (creation.length > 0 && !uses('name') && !uses('username')) {
    report('creation_statements', 'no statement uses {{name}}, so the lease user would never be created');
  }
  if (creation.length > 0 && !uses('password')) {
    report('creation_statements', 'no statement uses {{password}}: the lease user would have no password jitgate knows');
  }
  return problems;
}

function statementProblems(field: StatementField, statement: string, dialect: SqlDialect, database: string): string[] {
  const problems: string[] = [];
  let tokens: SqlToken[] | undefined;
  for (const match of statement.matchAll(PLACEHOLDER_PATTERN)) {
    const inner = match[1] ?? '';
    if (!isPlaceholder(inner)) {
      problems.push(`unknown placeholder {{${inner}}} (known: ${PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ')})`);
    } else if (!AVAILABLE[field].includes(inner)) {
      problems.push(`{{${inner}}} is not available in ${field} (available: ${AVAILABLE[field].map((name) => `{{${name}}}`).join(', ')})`);
    } else if (inner === 'password' || inner === 'expiration') {
      // A password or timestamp outside a literal is at best a syntax error and at worst echoed in the server's
      // "syntax error at or near …" message.
      tokens ??= scanSqlTokens(statement, dialect);
      if (!insideString(tokens, match.index)) problems.push(`{{${inner}}} must sit inside a quoted string literal ('{{${inner}}}')`);
    } else if (inner === 'database') {
      tokens ??= scanSqlTokens(statement, dialect);
      const placed = databaseText(statement, match.index, tokens, dialect, database);
      if ('problem' in placed) problems.push(placed.problem);
    }
  }
  const unmatched = statement.replace(PLACEHOLDER_PATTERN, '');
  if (unmatched.includes('{{') || unmatched.includes('}}')) problems.push('unbalanced "{{" or "}}"');
  return problems;
}

const insideString = (tokens: readonly SqlToken[], offset: number): boolean =>
  tokens.some((token) => token.kind === 'string' && token.start < offset && offset < token.end);
