// For suites that need a PostgreSQL configured unlike the run's shared one (log_statement=all, ssl=on): a throwaway
// server of their own, scratch databases on it, and a jitgate instance whose `readwrite` role lives there. Shares the
// role statements and connection helpers of pg-target.ts, so a target made here is the same kind of target.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startJitgateInstance, type InstanceOptions, type JitgateInstance, type TestResource } from './jitgate-instance.js';
import { preparePgScratchDatabase, psqlEnvFor, pgUrl, READWRITE_ROLE_STATEMENTS, type PgTarget } from './pg-target.js';
import { findPostgresBinDir, startThrowawayPostgres, type ThrowawayPostgres, type ThrowawayPostgresOptions } from './servers/postgres.js';
import type { ScratchDatabase } from './databases.js';

/** Fails loudly (DESIGN §9) when the machine has no PostgreSQL binaries: these suites cannot use a server by URL. */
export async function startOwnPostgres(options: ThrowawayPostgresOptions): Promise<ThrowawayPostgres> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) {
    throw new Error('this suite starts its own PostgreSQL (special settings) and needs the server binaries under /usr/lib/postgresql/<major>/bin');
  }
  return startThrowawayPostgres(binDir, options);
}

/** Runs statements as the admin of `url`, one connection, in order; returns the last result's rows. */
export async function adminQuery<Row extends pg.QueryResultRow = pg.QueryResultRow>(url: string, ...statements: readonly string[]): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    let rows: Row[] = [];
    for (const statement of statements) rows = (await client.query<Row>(statement)).rows;
    return rows;
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, name: string): string {
  const out = new URL(url);
  out.pathname = `/${name}`;
  return out.toString();
}

/** A scratch database on the server of `adminUrl`, private as pg-target.ts makes them. */
export async function createScratchDatabaseOn(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `create database "${name}"`);
  const db: ScratchDatabase = {
    name,
    url: withDatabase(adminUrl, name),
    drop: async () => { await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`); },
  };
  await preparePgScratchDatabase(db);
  return db;
}

export interface OwnJitgateTarget {
  readonly target: PgTarget;
  readonly instance: JitgateInstance;
  readonly db: ScratchDatabase;
  readonly grant: { readonly id: string; readonly token: string; readonly expiresAt: string };
  cleanup(): Promise<void>;
}

export interface OwnTargetOptions {
  readonly prefix?: string;
  /** The resource's `tls` YAML (default `{ mode: disable }`). */
  readonly resourceTls?: string;
  readonly instance?: InstanceOptions;
  readonly ttl?: string;
}

/** A jitgate instance with resource `own-pg` (role `readwrite`) on the server of `adminUrl`, and one grant on it. */
export async function createJitgateTargetOn(adminUrl: string, options: OwnTargetOptions = {}): Promise<OwnJitgateTarget> {
  const db = await createScratchDatabaseOn(adminUrl, options.prefix ?? 'own_jg');
  const resource: TestResource = {
    name: 'own-pg', protocol: 'postgres', adminUrl: db.url,
    roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS } },
    ...(options.resourceTls === undefined ? {} : { tls: options.resourceTls }),
  };
  const instance = await startJitgateInstance([resource], options.instance);
  try {
    const grant = await instance.grant('own-pg', 'readwrite', options.ttl ?? '2h');
    const endpoint = instance.handle.endpointFor('postgres');
    const connection = { host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: db.name };
    const target: PgTarget = { name: 'jitgate', ...connection, url: pgUrl(connection), psqlEnv: psqlEnvFor(connection, { PGSSLMODE: 'disable' }) };
    return {
      target, instance, db, grant,
      cleanup: async () => {
        await instance.close();
        await db.drop();
      },
    };
  } catch (error) {
    await instance.close();
    await db.drop();
    throw error;
  }
}
