// `config check` warnings for role statements that name a database by hand, when it is not the resource's: the
// lease user then gets privileges on one database and logs in to another, and every login fails with "Access denied
// … to database" (issue 19: the bundled MySQL roles granted on `test`). A warning, not an error: granting on a
// second database as well can be deliberate. Read from the statement's tokens, so strings and comments never count.
import { scanSqlTokens, type SqlDialect, type SqlToken } from '../audit/sql-scan.js';
import type { Config, ResourceConfig } from './schema.js';

export interface DatabaseWarning {
  readonly resource: string;
  readonly role: string;
  /** `creation_statements[1]` */
  readonly statement: string;
  readonly named: string;
  readonly expected: string;
  readonly message: string;
}

interface Token {
  readonly kind: SqlToken['kind'];
  readonly text: string;
}

/** A name as the server reads it: quotes stripped and un-doubled; a bare PG word folds to lower case. */
function nameOf(token: Token | undefined, dialect: SqlDialect): string | undefined {
  if (token === undefined) return undefined;
  // Placeholders (`{{database}}` bare is a `{` symbol; quoted, it is inside the name) stand for the resource's.
  if (token.text.includes('{{')) return undefined;
  if (token.kind === 'identifier') {
    const quote = token.text[0] ?? '"';
    return token.text.slice(1, -1).split(quote + quote).join(quote);
  }
  if (token.kind !== 'word') return undefined;
  return dialect === 'postgres' ? token.text.toLowerCase() : token.text;
}

const isWord = (token: Token | undefined, ...words: string[]): boolean =>
  token?.kind === 'word' && words.includes(token.text.toUpperCase());

/** MySQL `ON [TABLE|FUNCTION|PROCEDURE] db.* | db.object`: the database part of a privilege level. */
function mysqlDatabases(tokens: readonly Token[]): string[] {
  const names: string[] = [];
  tokens.forEach((token, index) => {
    if (!isWord(token, 'ON')) return;
    const at = isWord(tokens[index + 1], 'TABLE', 'FUNCTION', 'PROCEDURE', 'PACKAGE') ? index + 2 : index + 1;
    if (tokens[at + 1]?.text !== '.') return;
    const name = nameOf(tokens[at], 'mysql');
    if (name !== undefined) names.push(name);
  });
  return names;
}

/** PostgreSQL `ON DATABASE a, b` (GRANT/REVOKE) and `IN DATABASE a` (ALTER ROLE … SET). */
function postgresDatabases(tokens: readonly Token[]): string[] {
  const names: string[] = [];
  tokens.forEach((token, index) => {
    if (!isWord(token, 'ON', 'IN') || !isWord(tokens[index + 1], 'DATABASE')) return;
    for (let at = index + 2; ; at += 2) {
      const name = nameOf(tokens[at], 'postgres');
      if (name !== undefined) names.push(name);
      if (token.text.toUpperCase() === 'IN' || tokens[at + 1]?.text !== ',') break;
    }
  });
  return names;
}

/** The statement's tokens with each bare `{{placeholder}}` (five tokens to the scanner) as one word. */
function tokensOf(statement: string, dialect: SqlDialect): Token[] {
  const tokens: Token[] = [];
  const scanned = scanSqlTokens(statement, dialect);
  for (let index = 0; index < scanned.length; index++) {
    const token = scanned[index];
    if (token === undefined) continue;
    const placeholder = /^\{\{[a-z]+\}\}/.exec(statement.slice(token.start));
    if (token.kind === 'symbol' && placeholder !== null) {
      tokens.push({ kind: 'word', text: placeholder[0] });
      while (index + 1 < scanned.length && (scanned[index + 1]?.start ?? Infinity) < token.start + placeholder[0].length) index++;
      continue;
    }
    tokens.push({ kind: token.kind, text: statement.slice(token.start, token.end) });
  }
  return tokens;
}

/** The databases a statement names explicitly (not through `{{database}}`). */
export function databasesNamedIn(statement: string, protocol: ResourceConfig['protocol']): string[] {
  const dialect: SqlDialect = protocol === 'postgres' ? 'postgres' : 'mysql';
  const tokens = tokensOf(statement, dialect);
  return dialect === 'postgres' ? postgresDatabases(tokens) : mysqlDatabases(tokens);
}

/** One warning per (statement, foreign database) of every builtin role's creation statements. */
export function roleDatabaseWarnings(config: Pick<Config, 'resources'>): DatabaseWarning[] {
  const warnings: DatabaseWarning[] = [];
  for (const resource of config.resources) {
    if (resource.broker !== 'builtin') continue;
    for (const [role, roleConfig] of Object.entries(resource.roles)) {
      (roleConfig.creation_statements ?? []).forEach((statement, index) => {
        const foreign = new Set(databasesNamedIn(statement, resource.protocol).filter((name) => name !== resource.database));
        for (const named of foreign) {
          const where = `creation_statements[${index}]`;
          warnings.push({
            resource: resource.name, role, statement: where, named, expected: resource.database,
            message: `resource "${resource.name}" role "${role}" ${where} names database "${named}", but the resource's database is `
              + `"${resource.database}": lease users may be refused at login (write {{database}} to follow the resource)`,
          });
        }
      });
    }
  }
  return warnings;
}
