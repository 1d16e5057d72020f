// Where a real-client Postgres scenario connects (STYLE rule 14): the same scenarios run against the database itself
// (the direct target, here) and through jitgate (a target whose user is a grant id and whose password is its token).
// A target is plain connection facts; scenarios never learn which kind they were given.
import { randomBytes, randomInt } from 'node:crypto';
import pg from 'pg';
import { createPgDatabase, pgAdminUrl, type ScratchDatabase } from './databases.js';
import { startJitgateInstance, type JitgateInstance } from './jitgate-instance.js';

export interface PgTarget {
  /** `direct` or `jitgate`: for test titles and failure messages only. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** postgres://user:password@host:port/database, components percent-encoded. */
  readonly url: string;
  /** env for child psql: the connection (PGHOST … PGDATABASE) over an environment stripped of inherited PG* variables. */
  readonly psqlEnv: NodeJS.ProcessEnv;
}

export interface PgTargetHandle {
  readonly target: PgTarget;
  /** Ends the target's connections and removes its database and role; safe to call once. */
  cleanup(): Promise<void>;
}

/**
 * What a `readwrite` grant's dynamic user may do, as Vault-style creation statements (the placeholders of
 * src/credentials/builtin/templates.ts). The direct target renders them itself; the jitgate target hands the same list
 * to jitgate as the role's `creation_statements`, so both targets log in as users with identical privileges.
 * They run on an admin connection to the scratch database (hence `current_database()`); the user owns nothing but
 * what the suite creates.
 */
export const READWRITE_ROLE_STATEMENTS: readonly string[] = [
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
  `DO $grant$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), '{{name}}'); END $grant$`,
  'GRANT USAGE, CREATE ON SCHEMA public TO "{{name}}"',
];

/** How a role made from READWRITE_ROLE_STATEMENTS is removed (Vault's revocation_statements). */
export const READWRITE_REVOCATION_STATEMENTS: readonly string[] = [
  'DROP OWNED BY "{{name}}"',
  'DROP ROLE IF EXISTS "{{name}}"',
];

/**
 * Makes the scratch database private, so the CONNECT in READWRITE_ROLE_STATEMENTS is what lets the user in (PostgreSQL
 * grants CONNECT to PUBLIC by default; since 15, CREATE on schema public is no longer PUBLIC's).
 */
export async function preparePgScratchDatabase(db: ScratchDatabase): Promise<void> {
  await onDatabase(db.url, [
    `REVOKE CONNECT ON DATABASE "${db.name}" FROM PUBLIC`,
    'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
  ]);
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A password in templates.ts's safe alphabet: it is substituted into a literal without quoting. */
function randomPassword(length = 32): string {
  return Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

/** Vault's `{{expiration}}` layout, `2026-03-01 14:05:09+0000`, in UTC. */
function expirationText(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}

/** Plain substitution, as templates.ts does: every value here is from an alphabet that cannot leave its quotes. */
export function renderRoleStatements(statements: readonly string[], values: { name: string; password?: string; expiration?: Date }): string[] {
  const text: Record<string, string | undefined> = {
    name: values.name,
    username: values.name,
    password: values.password,
    expiration: values.expiration === undefined ? undefined : expirationText(values.expiration),
  };
  return statements.map((statement) => statement.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    const value = text[key];
    if (value === undefined) throw new Error(`${whole} has no value`);
    return value;
  }));
}

async function onDatabase(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {}); // a terminated admin connection must not become an unhandled 'error'
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Connection env for psql, with nothing inherited that could redirect it (PGSERVICE, PGPASSFILE, PGSSLMODE …). */
export function psqlEnvFor(connection: { host: string; port: number; user: string; password: string; database: string },
  extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
  return {
    ...env,
    PGHOST: connection.host,
    PGPORT: String(connection.port),
    PGUSER: connection.user,
    PGPASSWORD: connection.password,
    PGDATABASE: connection.database,
    PGCONNECT_TIMEOUT: '5',
    PGAPPNAME: 'jitgate-test-psql',
    ...extra,
  };
}

export function pgUrl(connection: { host: string; port: number; user: string; password: string; database: string }): string {
  const enc = encodeURIComponent;
  return `postgres://${enc(connection.user)}:${enc(connection.password)}@${connection.host}:${connection.port}/${enc(connection.database)}`;
}

/**
 * The database itself: a scratch database on the run's server and a login role made from READWRITE_ROLE_STATEMENTS,
 * as the builtin broker would make a `readwrite` lease user. The role never owns anything but the suite's tables.
 */
export async function createDirectPgTarget(scratchPrefix = 'pg_clients'): Promise<PgTargetHandle> {
  const db = await createPgDatabase(scratchPrefix);
  const role = `rw_${randomBytes(5).toString('hex')}`;
  try {
    await preparePgScratchDatabase(db);
    const password = randomPassword();
    const expiration = new Date(Date.now() + 60 * 60 * 1_000);
    await onDatabase(db.url, renderRoleStatements(READWRITE_ROLE_STATEMENTS, { name: role, password, expiration }));
    const admin = new URL(pgAdminUrl());
    const connection = { host: admin.hostname, port: Number(admin.port || '5432'), user: role, password, database: db.name };
    const target: PgTarget = { name: 'direct', ...connection, url: pgUrl(connection), psqlEnv: psqlEnvFor(connection) };
    return { target, cleanup: () => dropDirect(db, role) };
  } catch (error) {
    await dropDirect(db, role).catch(() => {});
    throw error;
  }
}

async function dropDirect(db: ScratchDatabase, role: string): Promise<void> {
  // Everything the role owns or was granted lives in the scratch database, so dropping that (WITH FORCE, which also
  // ends any session a test left open) leaves a role that DROP ROLE accepts without a DROP OWNED first.
  await db.drop();
  await onDatabase(pgAdminUrl(), renderRoleStatements(['DROP ROLE IF EXISTS "{{name}}"'], { name: role }));
}

/**
 * jitgate itself: an in-process instance whose `readwrite` role on a scratch database is READWRITE_ROLE_STATEMENTS;
 * the target logs in with a grant id and token, so every scenario runs through the engine, the tap and a lease user.
 */
export async function createJitgatePgTarget(scratchPrefix = 'pg_clients_jg'): Promise<PgTargetHandle & { readonly instance: JitgateInstance }> {
  const db = await createPgDatabase(scratchPrefix);
  await preparePgScratchDatabase(db);
  const instance = await startJitgateInstance([{
    name: 'clients-pg', protocol: 'postgres', adminUrl: db.url,
    roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS } },
  }]);
  try {
    const grant = await instance.grant('clients-pg', 'readwrite', '2h');
    const endpoint = instance.handle.endpointFor('postgres');
    const connection = { host: endpoint.host, port: endpoint.port, user: grant.id, password: grant.token, database: db.name };
    const target: PgTarget = { name: 'jitgate', ...connection, url: pgUrl(connection), psqlEnv: psqlEnvFor(connection, { PGSSLMODE: 'disable' }) };
    return {
      target,
      instance,
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
