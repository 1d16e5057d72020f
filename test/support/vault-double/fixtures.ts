// A scratch database per suite on the run's PostgreSQL or MariaDB, with the Vault roles' statements for it, admin
// probes that read the catalogs directly, and real clients (pg / mysql2) logging in as a Vault-made user.
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { LeaseSession } from '../broker-targets.js';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from '../databases.js';

export type DbKind = 'postgres' | 'mysql';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface DbFixture {
  readonly kind: DbKind;
  readonly scratch: ScratchDatabase;
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  /** Vault's plugin_name for it. */
  readonly plugin: string;
  /** Vault's connection_url for it, with `host` as Vault sees the server. */
  connectionUrl(host: string): string;
  /** Statement lists of the suite's roles. */
  readonly statements: {
    readonly readonly: readonly string[];
    readonly readwrite: readonly string[];
    /** Can create tables (PG: CREATE on schema public), for the owned-object revocation failure. */
    readonly owner: readonly string[];
    /** Revocation with an observable side effect: a row in revoked_log. */
    readonly loggingRevocation: readonly string[];
  };
  /** The engine's "permission denied": PG SQLSTATE 42501, MySQL errno 1142. */
  readonly permissionDenied: string;
  /** A login refused: PG 28P01, MySQL errno 1045. */
  readonly loginFailed: string;
  admin(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  userRows(username: string): Promise<number>;
  sessionsOf(username: string): Promise<number>;
  login(credentials: Credentials): Promise<LeaseSession>;
  close(): Promise<void>;
}

const TABLES = ['create table items (id int primary key, label varchar(40))', "insert into items values (1, 'one')", 'create table revoked_log (name varchar(64))'];

export async function openDbFixture(kind: DbKind): Promise<DbFixture> {
  return kind === 'postgres' ? postgresFixture() : mysqlFixture();
}

async function postgresFixture(): Promise<DbFixture> {
  const scratch = await createPgDatabase('vault');
  const url = new URL(scratch.url);
  const pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
  pool.on('error', () => {});
  const admin = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => (await pool.query(sql, params)).rows as Record<string, unknown>[];
  for (const statement of TABLES) await admin(statement);
  const count = async (sql: string, username: string): Promise<number> => Number((await admin(sql, [username]))[0]?.n ?? 0);
  const create = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`;
  const host = url.hostname;
  const port = Number(url.port || 5432);
  return {
    kind: 'postgres', scratch, host, port, adminUser: decodeURIComponent(url.username), adminPassword: decodeURIComponent(url.password),
    plugin: 'postgresql-database-plugin',
    connectionUrl: (vaultHost) => `postgresql://{{username}}:{{password}}@${vaultHost}:${port}/${scratch.name}?sslmode=disable`,
    statements: {
      readonly: [create, 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";'],
      readwrite: [create, 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{{name}}"'],
      owner: [create, 'GRANT CREATE ON SCHEMA public TO "{{name}}"'],
      loggingRevocation: ["INSERT INTO revoked_log (name) VALUES ('{{name}}')",
        'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{{name}}"; DROP ROLE IF EXISTS "{{name}}"'],
    },
    permissionDenied: '42501', loginFailed: '28P01',
    admin,
    userRows: (username) => count('select count(*) as n from pg_roles where rolname = $1', username),
    sessionsOf: (username) => count('select count(*) as n from pg_stat_activity where usename = $1', username),
    async login({ username, password }) {
      const client = new pg.Client({ host, port, database: scratch.name, user: username, password, connectionTimeoutMillis: 5_000 });
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      return { query: async (sql) => (await client.query(sql)).rows, end: () => client.end().catch(() => {}) };
    },
    async close() {
      await pool.end();
      await scratch.drop();
    },
  };
}

async function mysqlFixture(): Promise<DbFixture> {
  const scratch = await createMysqlDatabase('vault');
  const url = new URL(scratch.url);
  const pool = mysql.createPool({ uri: scratch.url, connectionLimit: 2 });
  const admin = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const [rows] = await pool.query<mysql.RowDataPacket[]>(sql, params);
    return Array.isArray(rows) ? rows : [];
  };
  for (const statement of TABLES) await admin(statement);
  const count = async (sql: string, username: string): Promise<number> => Number((await admin(sql, [username]))[0]?.n ?? 0);
  const host = url.hostname;
  const port = Number(url.port || 3306);
  const db = `\`${scratch.name}\``;
  const create = "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'";
  return {
    kind: 'mysql', scratch, host, port, adminUser: decodeURIComponent(url.username), adminPassword: decodeURIComponent(url.password),
    plugin: 'mysql-database-plugin',
    connectionUrl: (vaultHost) => `{{username}}:{{password}}@tcp(${vaultHost}:${port})/`,
    statements: {
      readonly: [create, `GRANT SELECT ON ${db}.* TO '{{name}}'@'%'`],
      readwrite: [`${create}; GRANT SELECT, INSERT, UPDATE, DELETE ON ${db}.* TO '{{name}}'@'%'`],
      owner: [create, `GRANT ALL ON ${db}.* TO '{{name}}'@'%'`],
      loggingRevocation: [`INSERT INTO ${db}.revoked_log (name) VALUES ('{{name}}')`, "DROP USER '{{name}}'@'%'"],
    },
    permissionDenied: '1142', loginFailed: '1045',
    admin,
    userRows: (username) => count('select count(*) as n from mysql.user where User = ?', username),
    sessionsOf: (username) => count('select count(*) as n from information_schema.processlist where USER = ?', username),
    async login({ username, password }) {
      const connection = await mysql.createConnection({ host, port, database: scratch.name, user: username, password, connectTimeout: 5_000 });
      connection.on('error', () => {});
      return {
        query: async (sql) => {
          const [rows] = await connection.query(sql);
          return Array.isArray(rows) ? rows : [rows];
        },
        end: () => connection.end().catch(() => {}),
      };
    },
    async close() {
      await pool.end();
      await scratch.drop();
    },
  };
}
