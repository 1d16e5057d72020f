// The database plugins the double runs for real against the test servers (VAULT.md §2): connection URL templating,
// statement splitting and substitution, PostgreSQL creation/renewal in one transaction, MySQL statement by
// statement (prepared, falling back to plain execution on 1295), and each plugin's default revocation.
import mysql from 'mysql2/promise';
import pg from 'pg';

export type PluginKind = 'postgres' | 'mysql';

export const PLUGINS: Readonly<Record<string, PluginKind>> = {
  'postgresql-database-plugin': 'postgres',
  'mysql-database-plugin': 'mysql',
  'mysql-legacy-database-plugin': 'mysql',
  'mysql-rds-database-plugin': 'mysql',
  'mysql-aurora-database-plugin': 'mysql',
};

export interface StatementValues {
  readonly name: string;
  readonly password?: string;
  readonly expiration?: string;
}

export interface PluginConnection {
  readonly kind: PluginKind;
  verify(): Promise<void>;
  createUser(statements: readonly string[], values: StatementValues): Promise<void>;
  renewUser(statements: readonly string[], values: StatementValues): Promise<void>;
  /** Empty `statements`: the plugin's default. */
  revokeUser(statements: readonly string[], name: string): Promise<void>;
  userExists(name: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConnectionSettings {
  readonly plugin: string;
  readonly connectionUrl: string;
  readonly username: string;
  readonly password: string;
  readonly disableEscaping: boolean;
  readonly maxOpenConnections: number;
}

/** `{{username}}`/`{{password}}` in the URL, path-escaped (the MySQL password is not), nothing escaped with disable_escaping. */
export function renderConnectionUrl(settings: ConnectionSettings, kind: PluginKind): string {
  const escape = (text: string, isPassword: boolean): string =>
    (settings.disableEscaping || (isPassword && kind === 'mysql') ? text : encodeURIComponent(text));
  return settings.connectionUrl.replaceAll('{{username}}', escape(settings.username, false)).replaceAll('{{password}}', escape(settings.password, true));
}

/** Go MySQL DSN `user:pass@tcp(host:port)/db?params`. */
export function parseMysqlDsn(dsn: string): mysql.PoolOptions {
  const at = dsn.lastIndexOf('@tcp(');
  const close = dsn.indexOf(')', at);
  if (at < 0 || close < 0) throw new Error(`invalid DSN: expected "user:password@tcp(host:port)/database"`);
  const credentials = dsn.slice(0, at);
  const colon = credentials.indexOf(':');
  const [host = '', port = '3306'] = dsn.slice(at + 5, close).split(':');
  const database = dsn.slice(close + 2).split('?')[0] ?? '';
  return {
    host, port: Number(port), user: colon < 0 ? credentials : credentials.slice(0, colon), password: colon < 0 ? '' : credentials.slice(colon + 1),
    ...(database === '' ? {} : { database }),
  };
}

/** Each element is split on `;` (PG: an element with END outside quotes runs whole, for DO $$…END$$), then substituted. */
export function splitStatements(elements: readonly string[], kind: PluginKind, values: StatementValues): string[] {
  const out: string[] = [];
  for (const element of elements) {
    const parts = kind === 'postgres' && hasEndOutsideQuotes(element) ? [element] : element.split(';');
    for (const part of parts) {
      const trimmed = part.trim();
      if (trimmed !== '') out.push(substitute(trimmed, values));
    }
  }
  return out;
}

function hasEndOutsideQuotes(text: string): boolean {
  return /\bEND\b/.test(text.replace(/'[^']*'|"[^"]*"/g, ''));
}

function substitute(statement: string, values: StatementValues): string {
  return statement.replaceAll('{{name}}', values.name).replaceAll('{{username}}', values.name)
    .replaceAll('{{password}}', values.password ?? '{{password}}').replaceAll('{{expiration}}', values.expiration ?? '{{expiration}}');
}

const quotePg = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteMysql = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

export function openPluginConnection(settings: ConnectionSettings): PluginConnection {
  const kind = PLUGINS[settings.plugin];
  if (kind === undefined) throw new Error(`plugin not found in the catalog: ${settings.plugin}`);
  const url = renderConnectionUrl(settings, kind);
  return kind === 'postgres' ? postgresPlugin(url, settings.maxOpenConnections) : mysqlPlugin(url, settings.maxOpenConnections);
}

function postgresPlugin(url: string, max: number): PluginConnection {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 5_000, allowExitOnIdle: true });
  pool.on('error', () => {});
  const inTransaction = async (statements: readonly string[]): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      try {
        for (const statement of statements) await client.query(statement);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      client.release();
    }
  };
  const userExists = async (name: string): Promise<boolean> =>
    (await pool.query('select 1 from pg_roles where rolname = $1', [name])).rowCount === 1;
  return {
    kind: 'postgres',
    verify: async () => {
      await pool.query('select 1');
    },
    createUser: (statements, values) => inTransaction(splitStatements(statements, 'postgres', values)),
    renewUser: (statements, values) => inTransaction(splitStatements(
      statements.length > 0 ? statements : [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`], 'postgres', values)),
    async revokeUser(statements, name) {
      if (statements.length > 0) return inTransaction(splitStatements(statements, 'postgres', { name }));
      // The plugin default (Vault's defaultRevokeUser): not in a transaction, every statement tried, then DROP ROLE.
      if (!(await userExists(name))) return;
      const schemas = await pool.query<{ table_schema: string }>(
        'select distinct table_schema from information_schema.role_column_grants where grantee = $1', [name]);
      const user = quotePg(name);
      const revokes = schemas.rows.flatMap((row) => [
        `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${quotePg(row.table_schema)} FROM ${user}`,
        `REVOKE USAGE ON SCHEMA ${quotePg(row.table_schema)} FROM ${user}`]);
      const database = (await pool.query<{ db: string }>('select current_database() as db')).rows[0]?.db ?? '';
      revokes.push(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM ${user}`, `REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM ${user}`,
        `REVOKE USAGE ON SCHEMA public FROM ${user}`, `REVOKE CONNECT ON DATABASE ${quotePg(database)} FROM ${user}`);
      let last: unknown;
      for (const statement of revokes) await pool.query(statement).catch((error: unknown) => { last = error; });
      if (last !== undefined) throw new Error(`could not perform all revocation statements: ${String(last instanceof Error ? last.message : last)}`);
      await pool.query(`DROP ROLE IF EXISTS ${user}`);
    },
    userExists,
    close: () => pool.end(),
  };
}

const ER_UNSUPPORTED_PS = 1295;

function mysqlPlugin(dsn: string, max: number): PluginConnection {
  const pool = mysql.createPool({ ...parseMysqlDsn(dsn), connectionLimit: max, maxIdle: max, idleTimeout: 5_000, connectTimeout: 5_000 });
  const run = async (statements: readonly string[]): Promise<void> => {
    for (const statement of statements) {
      try {
        await pool.execute(statement);
      } catch (error) {
        if (!(error instanceof Error && 'errno' in error && error.errno === ER_UNSUPPORTED_PS)) throw error;
        await pool.query(statement);
      }
    }
  };
  return {
    kind: 'mysql',
    verify: async () => {
      await pool.query('select 1');
    },
    createUser: (statements, values) => run(splitStatements(statements, 'mysql', values)),
    // The MySQL plugin's renew is a no-op (VAULT.md §2).
    renewUser: async () => {},
    revokeUser: (statements, name) => run(statements.length > 0 ? splitStatements(statements, 'mysql', { name })
      : [`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${quoteMysql(name)}@'%'`, `DROP USER ${quoteMysql(name)}@'%'`]),
    userExists: async (name) => {
      const [rows] = await pool.query<mysql.RowDataPacket[]>('select 1 from mysql.user where User = ?', [name]);
      return rows.length > 0;
    },
    close: () => pool.end(),
  };
}
