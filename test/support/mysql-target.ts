// Where the real-client MySQL suite (mysql-client-scenarios.ts) connects. The suite only sees a MysqlTarget, so the
// same scenarios run against MariaDB directly and through jitgate (STYLE rule 14, issue 6 acceptance 1).
// createDirectMysqlTarget() makes the direct one on the run's server: a scratch database and a user holding what the
// suite's readwrite grant holds, so a jitgate target built on the same role sees the same server behaviour.
import { randomBytes } from 'node:crypto';
import { startJitgateInstance, type InstanceOptions, type JitgateInstance } from './jitgate-instance.js';
import mysql from 'mysql2/promise';
import { createMysqlDatabase, mysqlAdminUrl, type ScratchDatabase } from './databases.js';
import { makeListenerTls } from './mysql-listener-tls.js';
import { mysqlTargetFromUrl } from './mysql-cli.js';
import { CAPABILITY, readServerGreeting } from './mysql-scenarios/greeting.js';

export type MysqlAuthPluginName = 'mysql_native_password' | 'caching_sha2_password';

export interface MysqlTarget {
  /** Shown in test names and skip reasons: 'direct', 'jitgate'. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Direct: the scratch user. Through jitgate: the grant id. */
  readonly user: string;
  /** Direct: the scratch user's password. Through jitgate: the grant token. */
  readonly password: string;
  readonly database: string;
  /** The target accepts TLS (CLIENT_SSL in its greeting). Unset or false: the TLS scenarios skip, saying why. */
  readonly tls?: boolean;
  /**
   * Auth plugins a client may complete on this target, with and without TLS; default `['mysql_native_password']`.
   * Through jitgate: `['caching_sha2_password', 'mysql_native_password']` (MariaDB 10.11 has no server-side
   * caching_sha2_password, so only jitgate, which offers it itself, can exercise that path).
   */
  readonly authPlugins?: readonly MysqlAuthPluginName[];
}

export interface MysqlTargetHandle {
  readonly target: MysqlTarget;
  /** Drops the user and the scratch database; safe to call once. */
  cleanup(): Promise<void>;
}

/**
 * What the suite's user may do on its database: the brief's readwrite grant (DML, DDL, indexes, temporary tables,
 * locks, EXECUTE) plus CREATE ROUTINE / ALTER ROUTINE, without which the CLI's DELIMITER + CREATE PROCEDURE batch
 * cannot run.
 */
export const CLIENT_SUITE_PRIVILEGES = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'INDEX', 'ALTER', 'CREATE TEMPORARY TABLES', 'LOCK TABLES',
  'EXECUTE', 'CREATE ROUTINE', 'ALTER ROUTINE',
] as const;

/**
 * The suite's user as Vault-style creation statements (placeholders of src/credentials/builtin/templates.ts). The
 * direct target renders them itself; a jitgate target hands the same list to jitgate as its role's
 * `creation_statements`, so both log in as users with the same plugin and privileges on `database`.
 */
export function clientSuiteRoleStatements(database: string): string[] {
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`database name needs quoting: ${database}`);
  return [
    `CREATE USER '{{name}}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{{password}}')`,
    `GRANT ${CLIENT_SUITE_PRIVILEGES.join(', ')} ON \`${database}\`.* TO '{{name}}'@'%'`,
  ];
}

/** Plain substitution, as templates.ts does: the values come from alphabets that cannot leave their quotes. */
function renderRoleStatements(statements: readonly string[], values: { readonly name: string; readonly password: string }): string[] {
  return statements.map((statement) => statement.replace(/\{\{(name|password)\}\}/g, (_, key: 'name' | 'password') => values[key]));
}

/**
 * The 20 MB BLOB scenario sends one COM_STMT_EXECUTE of ~20 MiB (split frames) and reads a row as big: MariaDB's
 * default max_allowed_packet (16 MiB) refuses both. Raised globally, never lowered; new connections see it.
 */
export const CLIENT_SUITE_MAX_ALLOWED_PACKET = 64 * 1024 * 1024;

async function withAdmin<T>(work: (admin: mysql.Connection) => Promise<T>, adminUrl = mysqlAdminUrl()): Promise<T> {
  const admin = await mysql.createConnection({ uri: adminUrl, connectTimeout: 10_000 });
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Makes the run's server fit for the suite; the jitgate target calls it too, since it reaches the same server. */
export async function prepareMysqlServerForClientSuite(adminUrl = mysqlAdminUrl()): Promise<void> {
  await withAdmin(async (admin) => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>('select @@global.max_allowed_packet as value, version() as version');
    const row = rows[0];
    if (row === undefined) throw new Error('select @@global.max_allowed_packet returned no row');
    // IDENTIFIED VIA and the SEQUENCE engine (seq_1_to_N) are MariaDB's: fail loudly rather than half-run on MySQL.
    if (!/mariadb/i.test(String(row.version))) {
      throw new Error(`the MySQL client suite needs MariaDB, the server is ${String(row.version)}`);
    }
    if (Number(row.value) < CLIENT_SUITE_MAX_ALLOWED_PACKET) {
      await admin.query(`set global max_allowed_packet = ${CLIENT_SUITE_MAX_ALLOWED_PACKET}`);
    }
  }, adminUrl);
}

/**
 * A scratch database (utf8mb4, so the unicode scenarios mean what they say on a latin1 server) and a user made from
 * clientSuiteRoleStatements: IDENTIFIED VIA mysql_native_password, a random password, CLIENT_SUITE_PRIVILEGES.
 * `tls` follows the server's greeting; `authPlugins` is native only (MariaDB 10.11 has no caching_sha2_password).
 */
export async function createDirectMysqlTarget(name = 'direct'): Promise<MysqlTargetHandle> {
  await prepareMysqlServerForClientSuite();
  const server = mysqlTargetFromUrl(mysqlAdminUrl());
  const host = (server.host ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const port = server.port ?? 3306;
  const greeting = await readServerGreeting(host, port);
  const scratch = await createMysqlDatabase('mysql_clients');
  const user = `mc_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  const dropUser = (): Promise<void> => withAdmin(async (admin) => {
    await admin.query(`drop user if exists '${user}'@'%'`);
  });
  try {
    await withAdmin(async (admin) => {
      await admin.query(`alter database \`${scratch.name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
      for (const statement of renderRoleStatements(clientSuiteRoleStatements(scratch.name), { name: user, password })) {
        await admin.query(statement);
      }
    });
  } catch (error) {
    await dropUser().catch(() => undefined);
    await scratch.drop();
    throw error;
  }
  return {
    target: {
      name, host, port, user, password, database: scratch.name,
      tls: (greeting.capabilities & CAPABILITY.CLIENT_SSL) !== 0,
      authPlugins: ['mysql_native_password'],
    },
    async cleanup() {
      try {
        await dropUser();
      } finally {
        await scratch.drop();
      }
    },
  };
}

export interface JitgateMysqlTargetOptions {
  /**
   * Give jitgate's listener a certificate (a throwaway CA and server certificate, see mysql-listener-tls.ts) so the
   * TLS client paths run; default true.
   */
  readonly listenerTls?: boolean;
  /** The server the lease users live on (default: the run's server); e.g. a suite's own MariaDB with a general log. */
  readonly adminUrl?: string;
  readonly instance?: InstanceOptions;
}

/** A scratch utf8mb4 database on the server of `adminUrl` (the run's server has createMysqlDatabase for this). */
async function scratchDatabaseOn(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (admin) => {
    await admin.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
  }, adminUrl);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdmin(async (admin) => { await admin.query(`drop database if exists \`${name}\``); }, adminUrl),
  };
}

/**
 * jitgate itself: an in-process instance whose `readwrite` role on a scratch database is clientSuiteRoleStatements, so
 * the lease user has exactly the direct user's privileges; the target logs in with a grant id and its token. With
 * `listenerTls` (the default) jitgate offers CLIENT_SSL with a test certificate and the TLS scenarios run.
 */
export async function createJitgateMysqlTarget(name = 'jitgate', options: JitgateMysqlTargetOptions = {}):
Promise<MysqlTargetHandle & { readonly instance: JitgateInstance }> {
  const adminUrl = options.adminUrl ?? mysqlAdminUrl();
  await prepareMysqlServerForClientSuite(adminUrl);
  const scratch = await scratchDatabaseOn(adminUrl, 'mysql_clients_jg');
  const tls = (options.listenerTls ?? true) ? await makeListenerTls() : undefined;
  const removeTls = async (): Promise<void> => { await tls?.remove(); };
  let instance: JitgateInstance;
  try {
    instance = await startJitgateInstance([{
      name: 'clients-mysql', protocol: 'mysql', adminUrl: scratch.url,
      roles: { readwrite: { creation: clientSuiteRoleStatements(scratch.name) } },
    }], { ...options.instance, extraYaml: [options.instance?.extraYaml ?? '', tls?.yaml ?? ''].join('\n') });
  } catch (error) {
    await removeTls();
    await scratch.drop();
    throw error;
  }
  // The config read the PEM files at start: the directory is not needed any more.
  await removeTls();
  try {
    const grant = await instance.grant('clients-mysql', 'readwrite', '2h');
    const endpoint = instance.handle.endpointFor('mysql');
    return {
      target: {
        name, host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: scratch.name,
        tls: tls !== undefined, authPlugins: ['caching_sha2_password', 'mysql_native_password'],
      },
      instance,
      async cleanup() {
        try {
          await instance.close();
        } finally {
          await scratch.drop();
        }
      },
    };
  } catch (error) {
    await instance.close();
    await scratch.drop();
    throw error;
  }
}
