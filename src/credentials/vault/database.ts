// The vault broker's look at the database itself, for resources that also give `admin` credentials: does the
// lease user still exist, how many sessions does it have, which Vault-made users are there — and, at revocation,
// ending the sessions Vault's revocation leaves connected (VAULT.md §2: neither plugin terminates sessions).
// Only catalog queries with bound parameters; the user name is never put into SQL text.
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { ResourceConfig } from '../../config/schema.js';
import type { RevocationCheck } from '../broker.js';
import { waitForZero } from '../builtin/admin.js';
import { describeDatabaseError } from '../builtin/errors.js';
import { mysqlSslOptions, pgSslOptions } from '../builtin/tls-options.js';
import { VaultBrokerError, type VaultOperation } from './errors.js';

export interface LeaseDatabase {
  check(username: string): Promise<RevocationCheck>;
  /** Ends the user's sessions, waiting (bounded) until they are gone; returns how many are left. */
  terminate(username: string): Promise<number>;
  /** Users whose name starts with `v-` (Vault's default templates). */
  listVaultUsers(): Promise<string[]>;
  close(): Promise<void>;
}

export interface LeaseDatabaseOptions {
  readonly connectTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly onIdleError: (error: Error) => void;
}

const ER_NO_SUCH_THREAD = 1094;

/** undefined when the resource has no admin credentials: the broker then relies on Vault's lookup alone. */
export function openLeaseDatabase(resource: ResourceConfig, options: LeaseDatabaseOptions): LeaseDatabase | undefined {
  if (resource.admin === undefined) return undefined;
  return resource.protocol === 'postgres' ? postgresDatabase(resource, options) : mysqlDatabase(resource, options);
}

function failure(resource: ResourceConfig, operation: VaultOperation, doing: string, error: unknown): VaultBrokerError {
  const secrets = resource.admin?.password === undefined || resource.admin.password === '' ? [] : [resource.admin.password];
  return new VaultBrokerError('database_error', operation, `${doing} on resource "${resource.name}" failed: ${describeDatabaseError(error, secrets).text}`);
}

function postgresDatabase(resource: ResourceConfig, options: LeaseDatabaseOptions): LeaseDatabase {
  const admin = resource.admin;
  const pool = new pg.Pool({
    host: resource.host, port: resource.port, database: resource.database, user: admin?.user,
    password: admin?.password === '' ? undefined : admin?.password, ssl: pgSslOptions(resource.tls, resource.host),
    connectionTimeoutMillis: options.connectTimeoutMs, max: 2, idleTimeoutMillis: 10_000, allowExitOnIdle: true,
    application_name: 'jitgate-vault-broker',
  });
  pool.on('error', (error) => options.onIdleError(error));
  const query = async <Row extends pg.QueryResultRow>(operation: VaultOperation, doing: string, sql: string, params: unknown[]): Promise<Row[]> => {
    try {
      return (await pool.query<Row>(sql, params)).rows;
    } catch (error) {
      throw failure(resource, operation, doing, error);
    }
  };
  // After Vault's DROP ROLE, pg_stat_activity.usename of a live session turns NULL (VAULT.md §2): sessions are also
  // matched by the role's OID, learnt while the role still existed.
  const oids = new Map<string, string>();
  const oidOf = async (username: string, operation: VaultOperation): Promise<string> => {
    const known = oids.get(username);
    if (known !== undefined) return known;
    const rows = await query<{ oid: string }>(operation, `looking up user "${username}"`, 'select oid::text as oid from pg_roles where rolname = $1', [username]);
    const oid = rows[0]?.oid;
    if (oid !== undefined) oids.set(username, oid);
    return oid ?? '0';
  };
  const check = async (username: string): Promise<RevocationCheck> => {
    const oid = oids.get(username) ?? '0';
    const rows = await query<{ roles: number; sessions: number }>('exists', `checking user "${username}"`,
      `select (select count(*) from pg_roles where rolname = $1)::int as roles,
              (select count(*) from pg_stat_activity where usename = $1 or usesysid = $2::oid)::int as sessions`, [username, oid]);
    return { userExists: (rows[0]?.roles ?? 0) > 0, sessions: rows[0]?.sessions ?? 0 };
  };
  return {
    check,
    async terminate(username) {
      const oid = await oidOf(username, 'revoke');
      return waitForZero(async () => {
        const rows = await query('revoke', `terminating the sessions of "${username}"`,
          'select pg_terminate_backend(pid) from pg_stat_activity where (usename = $1 or usesysid = $2::oid) and pid <> pg_backend_pid()', [username, oid]);
        return rows.length;
      }, options.drainTimeoutMs);
    },
    listVaultUsers: async () => (await query<{ rolname: string }>('list', 'listing users',
      "select rolname from pg_roles where rolname like 'v-%' order by rolname", [])).map((row) => row.rolname),
    close: () => pool.end(),
  };
}

function mysqlDatabase(resource: ResourceConfig, options: LeaseDatabaseOptions): LeaseDatabase {
  const ssl = mysqlSslOptions(resource.tls, resource.host);
  const pool = mysql.createPool({
    host: resource.host, port: resource.port, database: resource.database, user: resource.admin?.user ?? '', password: resource.admin?.password ?? '',
    connectionLimit: 2, maxIdle: 2, idleTimeout: 10_000, connectTimeout: options.connectTimeoutMs, ...(ssl === undefined ? {} : { ssl }),
  });
  const query = async (operation: VaultOperation, doing: string, sql: string, params: unknown[]): Promise<mysql.RowDataPacket[]> => {
    try {
      const [rows] = await pool.query<mysql.RowDataPacket[]>(sql, params);
      return rows;
    } catch (error) {
      throw failure(resource, operation, doing, error);
    }
  };
  const check = async (username: string): Promise<RevocationCheck> => {
    const rows = await query('exists', `checking user "${username}"`,
      `select (select count(*) from mysql.user where User = ?) as users,
              (select count(*) from information_schema.processlist where USER = ?) as sessions`, [username, username]);
    return { userExists: Number(rows[0]?.users ?? 0) > 0, sessions: Number(rows[0]?.sessions ?? 0) };
  };
  const killAll = async (username: string): Promise<number> => {
    const rows = await query('revoke', `listing the sessions of "${username}"`, 'select ID as id from information_schema.processlist where USER = ?', [username]);
    for (const row of rows) {
      const id = Number(row.id as unknown);
      if (!Number.isSafeInteger(id)) continue;
      try {
        await pool.query(`KILL CONNECTION ${id}`);
      } catch (error) {
        // The session ended by itself between the select and the kill.
        if (!(error instanceof Error && 'errno' in error && error.errno === ER_NO_SUCH_THREAD)) throw failure(resource, 'revoke', `killing a session of "${username}"`, error);
      }
    }
    return rows.length;
  };
  return {
    check,
    // KILL only flags a thread; it leaves the processlist when it notices (as in the builtin broker).
    terminate: (username) => waitForZero(() => killAll(username), options.drainTimeoutMs),
    listVaultUsers: async () => (await query('list', 'listing users', "select distinct User as user from mysql.user where User like 'v-%' order by User", []))
      .map((row) => String(row.user as unknown)),
    close: () => pool.end(),
  };
}
