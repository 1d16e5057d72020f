// What every scenario file shares: clients made for one test and closed after it, and table names unique to one test
// and dropped after it, so scenarios run in any order against any target and leave nothing behind.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import postgres from 'postgres';
import { afterEach } from 'vitest';
import type { PgTarget } from '../pg-target.js';

export type PostgresJs = postgres.Sql;

export interface ScenarioScope {
  target(): PgTarget;
  /** A connected node-postgres client, ended after the test. An unexpected 'error' event fails the test. */
  pgClient(config?: pg.ClientConfig): Promise<pg.Client>;
  /** A postgres.js instance (one connection unless `max` says otherwise), ended after the test. */
  postgresJs(options?: postgres.Options<Record<string, postgres.PostgresType>>): PostgresJs;
  /** `<prefix>_<random>`, dropped (if it exists) after the test, once its clients are closed. */
  table(prefix: string): string;
}

export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/** node-postgres settings for a target; a scenario adds only what it tests. */
export function pgConfig(target: PgTarget, config: pg.ClientConfig = {}): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionTimeoutMillis: 5_000,
    application_name: 'jitgate-test-pg',
    ...config,
  };
}

/** Declares the afterEach that closes and drops; call it inside the scenario's `describe`. */
export function useScenarioScope(getTarget: () => PgTarget): ScenarioScope {
  let closers: (() => Promise<void>)[] = [];
  let tables: string[] = [];
  let clientErrors: Error[] = [];

  afterEach(async () => {
    const closing = closers.reverse();
    const dropping = tables;
    const errors = clientErrors;
    closers = [];
    tables = [];
    clientErrors = [];
    // Clients first: one left inside a transaction would hold locks that make DROP TABLE wait.
    const failures = (await Promise.allSettled(closing.map((close) => close())))
      .flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (dropping.length > 0) await dropTables(getTarget(), dropping);
    if (errors.length > 0) throw new Error(`unexpected client 'error' events: ${errors.map(String).join('; ')}`);
    if (failures.length > 0) throw new Error(`closing clients failed: ${failures.map(String).join('; ')}`);
  });

  return {
    target: getTarget,
    async pgClient(config = {}) {
      const client = new pg.Client(pgConfig(getTarget(), config));
      client.on('error', (error) => clientErrors.push(error));
      await client.connect(); // a failed connect leaves nothing to end (and end() on it could wait forever)
      closers.push(() => client.end());
      return client;
    },
    postgresJs(options = {}) {
      const target = getTarget();
      const sql = postgres({
        host: target.host,
        port: target.port,
        user: target.user,
        pass: target.password,
        database: target.database,
        max: 1,
        connect_timeout: 5,
        onnotice: () => {}, // its default prints every NOTICE to the console
        connection: { application_name: 'jitgate-test-postgres-js' },
        ...options,
      });
      closers.push(() => sql.end({ timeout: 5 }));
      return sql;
    },
    table(prefix) {
      const name = uniqueName(prefix);
      tables.push(name);
      return name;
    },
  };
}

async function dropTables(target: PgTarget, names: readonly string[]): Promise<void> {
  const client = new pg.Client(pgConfig(target));
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`drop table if exists ${names.map((name) => `"${name}"`).join(', ')}`);
  } finally {
    await client.end();
  }
}

/** Resolves with what `promise` settles to, or rejects naming `what` once `ms` pass: a hang fails, it never stalls. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SQLSTATE a client error carries (pg and postgres.js both name it `code`), or a note that there was none. */
export async function sqlstateOf(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  if (error === undefined) return 'no error';
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return `error without a code: ${String(error)}`;
}
