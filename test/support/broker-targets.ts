// The two servers the builtin broker contract runs on. Each target gives a scratch database, the example role
// files pointed at it (so the shipped examples are what is tested), a resource of deliberately bad roles, admin
// probes that read the catalogs directly, and a real client (pg / mysql2) logging in as a lease user.
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Lease } from '../../src/credentials/broker.js';
import { parseConfigText } from '../../src/config/load.js';
import type { ResourceConfig } from '../../src/config/schema.js';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from './databases.js';

export interface LeaseSession {
  query(sql: string): Promise<unknown[]>;
  end(): Promise<void>;
}

export interface TargetServer {
  readonly scratch: ScratchDatabase;
  /** The example file's resource (roles readonly, readwrite) on the scratch database. */
  readonly resource: ResourceConfig;
  /** Roles `typo` (unknown placeholder) and `broken` (syntax error in the 2nd statement), plus target extras. */
  readonly badResource: ResourceConfig;
  admin(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Rows for the user in pg_roles / mysql.user. */
  userRows(username: string): Promise<number>;
  /** Server sessions of the user: pg_stat_activity / processlist. */
  sessionsOf(username: string): Promise<number>;
  login(lease: Pick<Lease, 'username' | 'password'>): Promise<LeaseSession>;
  close(): Promise<void>;
}

export interface BrokerTarget {
  readonly name: string;
  /** The engine's "permission denied" for an INSERT without privilege: PG SQLSTATE 42501, MySQL errno 1142. */
  readonly permissionDenied: string;
  /** A login that fails because the user is gone: PG 28P01, MySQL errno 1045. */
  readonly loginFailed: string;
  start(): Promise<TargetServer>;
}

/** The server's code of a driver error: pg's SQLSTATE, or mysql2's errno as text. */
export function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  if ('errno' in error && typeof error.errno === 'number' && 'sqlMessage' in error) return String(error.errno);
  return 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

const example = (file: string): string => readFileSync(new URL(`../../config/examples/${file}`, import.meta.url), 'utf8');

function onlyResource(text: string, env: Record<string, string>): ResourceConfig {
  const resource = parseConfigText(text, { env, skipTemplateCheck: true }).resources[0];
  if (resource === undefined) throw new Error('config has no resource');
  return resource;
}

const PG_BAD_ROLES = `
resources:
  - name: bad-pg
    protocol: postgres
    admin_url: "\${env:JITGATE_PG_ADMIN_URL}"
    roles:
      typo:
        max_ttl: 1h
        creation_statements:
          - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'
          - GRANT USAGE ON SCHEMA public TO "{{nmae}}"
      broken:
        max_ttl: 1h
        creation_statements:
          - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'
          - GRANT SELEC ON ALL TABLES IN SCHEMA public TO "{{name}}"
      # No VALID UNTIL in the template: the broker must add one anyway.
      forgetful:
        max_ttl: 1h
        creation_statements:
          - CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'
`;

export const postgresTarget: BrokerTarget = {
  name: 'PostgreSQL',
  permissionDenied: '42501',
  loginFailed: '28P01',
  async start() {
    const scratch = await createPgDatabase('broker_contract');
    const env = { JITGATE_PG_ADMIN_URL: scratch.url };
    const resource = onlyResource(example('roles-postgres.yaml'), env);
    const pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
    pool.on('error', () => {});
    const count = async (sql: string, username: string): Promise<number> =>
      Number((await pool.query<{ n: string }>(sql, [username])).rows[0]?.n ?? 0);
    return {
      scratch,
      resource,
      badResource: onlyResource(PG_BAD_ROLES, env),
      admin: async (sql, params = []) => (await pool.query(sql, params)).rows as Record<string, unknown>[],
      userRows: (username) => count('select count(*) as n from pg_roles where rolname = $1', username),
      sessionsOf: (username) => count('select count(*) as n from pg_stat_activity where usename = $1', username),
      async login(lease) {
        const client = new pg.Client({
          host: resource.host, port: resource.port, database: resource.database,
          user: lease.username, password: lease.password.reveal(), connectionTimeoutMillis: 5_000,
        });
        client.on('error', () => {}); // termination at revoke arrives as an 'error' event on an idle client
        try {
          await client.connect();
        } catch (error) {
          await client.end().catch(() => {});
          throw error;
        }
        return {
          query: async (sql) => (await client.query(sql)).rows,
          end: () => client.end().catch(() => {}),
        };
      },
      async close() {
        await pool.end();
        await scratch.drop();
      },
    };
  },
};

const mysqlBadRoles = (database: string): string => `
resources:
  - name: bad-mysql
    protocol: mysql
    admin_url: "\${env:JITGATE_MYSQL_ADMIN_URL}"
    roles:
      typo:
        max_ttl: 1h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON \`${database}\`.* TO '{{nmae}}'@'%'
      broken:
        max_ttl: 1h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELEC ON \`${database}\`.* TO '{{name}}'@'%'
      # MariaDB quotes the text after a syntax error, here the password: it must not reach the error.
      misspelled:
        max_ttl: 1h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFED BY '{{password}}'
      # Two accounts, then a failure: the cleanup must find both hosts.
      two_hosts:
        max_ttl: 1h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - CREATE USER '{{name}}'@'localhost' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON \`${database}\`.* TO '{{name}}'@'nowhere.invalid'
`;

export const mariadbTarget: BrokerTarget = {
  name: 'MariaDB',
  permissionDenied: '1142',
  loginFailed: '1045',
  async start() {
    const scratch = await createMysqlDatabase('broker_contract');
    const env = { JITGATE_MYSQL_ADMIN_URL: scratch.url };
    const resource = onlyResource(example('roles-mysql.yaml'), env);
    const pool = mysql.createPool({ uri: scratch.url, connectionLimit: 2 });
    const admin = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(sql, params);
      return rows;
    };
    const count = async (sql: string, username: string): Promise<number> => Number((await admin(sql, [username]))[0]?.n ?? 0);
    return {
      scratch,
      resource,
      badResource: onlyResource(mysqlBadRoles(scratch.name), env),
      admin,
      userRows: (username) => count('select count(*) as n from mysql.user where User = ?', username),
      sessionsOf: (username) => count('select count(*) as n from information_schema.processlist where USER = ?', username),
      async login(lease) {
        const connection = await mysql.createConnection({
          host: resource.host, port: resource.port, database: resource.database,
          user: lease.username, password: lease.password.reveal(), connectTimeout: 5_000,
        });
        connection.on('error', () => {}); // KILL CONNECTION at revoke arrives as an 'error' event
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
  },
};
