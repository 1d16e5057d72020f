// mysql2 plumbing shared by the client scenarios: options from a MysqlTarget, a connection that is always closed,
// the server error a promise ends with, and skips that print their reason.
import { TLSSocket } from 'node:tls';
import mysql from 'mysql2/promise';
import type { MysqlAuthPluginName, MysqlTarget } from '../mysql-target.js';

export const DEFAULT_AUTH_PLUGINS: readonly MysqlAuthPluginName[] = ['mysql_native_password'];

export const authPluginsOf = (target: MysqlTarget): readonly MysqlAuthPluginName[] => target.authPlugins ?? DEFAULT_AUTH_PLUGINS;

/** TLS as a client that has no CA for the server would do it: encrypted, certificate not checked. */
export const TLS_WITHOUT_VERIFY = { rejectUnauthorized: false } as const;

/**
 * Options every scenario starts from. `timezone: 'Z'` makes Date ⇄ DATETIME conversions independent of the test
 * machine's zone; big numbers come back as strings so that nothing is rounded through a double on the way.
 */
export function connectionOptions(target: MysqlTarget, extra: mysql.ConnectionOptions = {}): mysql.ConnectionOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectTimeout: 10_000,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    ...extra,
  };
}

export async function connect(target: MysqlTarget, extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  return mysql.createConnection(connectionOptions(target, extra));
}

/** Runs `work` on a fresh connection and always ends it (destroys it when a graceful end fails). */
export async function withConnection<T>(
  target: MysqlTarget, work: (connection: mysql.Connection) => Promise<T>, extra: mysql.ConnectionOptions = {},
): Promise<T> {
  const connection = await connect(target, extra);
  try {
    return await work(connection);
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

export interface ServerError {
  readonly errno: number | undefined;
  readonly sqlState: string | undefined;
  readonly code: string | undefined;
  readonly message: string;
}

/** The error `promise` rejects with, reduced to what a client acts on; fails when it resolves. */
export async function serverErrorOf(promise: Promise<unknown>): Promise<ServerError> {
  const outcome = await promise.then(() => undefined, (error: unknown) => ({ error }));
  if (outcome === undefined) throw new Error('expected the server to answer with an error, it succeeded');
  const { error } = outcome;
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${String(error)}`);
  const fields = error as Error & { errno?: unknown; sqlState?: unknown; code?: unknown; sqlMessage?: unknown };
  return {
    errno: typeof fields.errno === 'number' ? fields.errno : undefined,
    sqlState: typeof fields.sqlState === 'string' ? fields.sqlState : undefined,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    message: typeof fields.sqlMessage === 'string' ? fields.sqlMessage : error.message,
  };
}

/**
 * The TLS version of the client's own socket, or null in the clear. Read from mysql2's connection (not from
 * `SHOW STATUS LIKE 'Ssl%'`, which through a proxy describes the proxy's upstream leg, not the client's).
 */
export function clientTlsProtocol(connection: mysql.Connection): string | null {
  const core = (connection as unknown as { connection?: { stream?: unknown } }).connection;
  if (core === undefined) throw new Error('mysql2 internals changed: promise connection has no .connection');
  return core.stream instanceof TLSSocket ? core.stream.getProtocol() : null;
}

interface Skippable {
  skip(note?: string): never;
}

/** Skips the running test, printing why, so a skipped client path is visible in the run's output. */
export function skipWithReason(context: Skippable, reason: string): never {
  console.warn(`[mysql client suite] skipped: ${reason}`);
  return context.skip(reason);
}

export function tlsSkipReason(target: MysqlTarget): string | undefined {
  return target.tls === true ? undefined
    : `target '${target.name}' does not offer TLS (target.tls is ${String(target.tls)}: no CLIENT_SSL in its greeting)`;
}

export function pluginSkipReason(target: MysqlTarget, plugin: MysqlAuthPluginName): string | undefined {
  return authPluginsOf(target).includes(plugin) ? undefined
    : `target '${target.name}' does not offer ${plugin} (target.authPlugins: ${authPluginsOf(target).join(', ')})`;
}

export const rowsOf = (result: unknown): mysql.RowDataPacket[] => {
  if (!Array.isArray(result)) throw new Error(`expected rows, got ${JSON.stringify(result)}`);
  return result as mysql.RowDataPacket[];
};
