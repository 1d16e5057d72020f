// Revoking a PostgreSQL lease user (DESIGN §4 step 5, §10). DROP ROLE neither ends sessions nor succeeds while
// the user owns objects or holds privileges, so, in order:
//   1. NOLOGIN: nobody logs in as the user again, which closes the race between steps 2 and 4;
//   2. terminate every backend of the user and wait (bounded) until they are gone;
//   3. the role's revocation_statements, in one transaction; or else the safe default:
//   4. REASSIGN OWNED + DROP OWNED in every database holding the user's objects or privileges, then DROP ROLE.
// A user that is already gone is success: revocation is retried, and a retry must not fail on its own earlier win.
import type pg from 'pg';
import type { ResourceConfig } from '../../config/schema.js';
import { waitForZero, type LeaseUserRef } from './admin.js';
import { BuiltinBrokerError } from './errors.js';
import { inPgTransaction, runPgStatements, statementFailure, type StatementFailure } from './postgres-statements.js';
import { quotePgIdent } from './quoting.js';
import { renderStatements } from './templates.js';

export interface PgRevokeContext {
  readonly resource: ResourceConfig;
  /** Admin pool on the resource's own database. */
  readonly pool: pg.Pool;
  /** An unconnected admin client for another database on the same server. */
  readonly connectTo: (database: string) => pg.Client;
  readonly sessionDrainTimeoutMs: number;
}

export async function revokePostgresUser(context: PgRevokeContext, user: LeaseUserRef): Promise<void> {
  const { pool } = context;
  const name = quotePgIdent(user.username);
  const step = async (what: string, run: () => Promise<StatementFailure | undefined>): Promise<void> => {
    let failure: StatementFailure | undefined;
    try {
      failure = await run();
    } catch (error) {
      failure = statementFailure(what, error);
    }
    if (failure !== undefined) {
      throw new BuiltinBrokerError('revoke', context.resource.name, `of user "${user.username}" failed at ${failure.where}: ${failure.text}`, failure.code);
    }
  };
  const single = (what: string, sql: string, params: unknown[] = []) => async (): Promise<StatementFailure | undefined> => {
    try {
      await pool.query(sql, params);
      return undefined;
    } catch (error) {
      return statementFailure(what, error);
    }
  };

  let roleOid: string | undefined;
  await step('looking up the user', async () => {
    const { rows } = await pool.query<{ oid: string }>('select oid::text as oid from pg_roles where rolname = $1', [user.username]);
    roleOid = rows[0]?.oid;
    return undefined;
  });
  if (roleOid === undefined) return;

  await step('ALTER ROLE … NOLOGIN', single('ALTER ROLE … NOLOGIN', `ALTER ROLE ${name} NOLOGIN`));
  await step('terminating sessions', async () => {
    await terminateSessions(pool, user.username, context.sessionDrainTimeoutMs);
    return undefined;
  });

  const revocation = renderStatements('revocation_statements', user.roleConfig?.revocation_statements ?? [], { name: user.username }, context.resource);
  if (revocation.length > 0) {
    await step('revocation_statements', () => inPgTransaction(pool, (client) => runPgStatements(client, 'revocation_statements', revocation)));
    return;
  }
  const oid = roleOid;
  await step('finding databases', async () => {
    for (const database of await databasesDependingOn(pool, oid, context.resource.database)) {
      const failure = await dropOwnedIn(context, database, name);
      if (failure !== undefined) return failure;
    }
    return undefined;
  });
  await step('DROP ROLE', single('DROP ROLE', `DROP ROLE IF EXISTS ${name}`));
}

/** Sends pg_terminate_backend to each backend of the user until none is listed or the time is up. */
async function terminateSessions(pool: pg.Pool, username: string, timeoutMs: number): Promise<void> {
  await waitForZero(async () => {
    const { rows } = await pool.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()', [username]);
    return rows.length;
  }, timeoutMs);
  // Whatever is left is reported by the caller's verification, with the count.
}

/**
 * The databases where the role owns objects or holds privileges, from pg_shdepend: the same catalog DROP ROLE
 * consults, so cleaning exactly these is what lets it succeed, without connecting to every database on the
 * server. The resource's own database is always included: REASSIGN OWNED there also moves shared objects
 * (databases, tablespaces) the user owns.
 */
async function databasesDependingOn(pool: pg.Pool, roleOid: string, ownDatabase: string): Promise<string[]> {
  const { rows } = await pool.query<{ datname: string }>(
    `select datname from pg_database
      where datallowconn and oid in (select dbid from pg_shdepend where refclassid = 'pg_authid'::regclass and refobjid = $1::oid)
      order by datname`, [roleOid]);
  const others = rows.map((row) => row.datname).filter((database) => database !== ownDatabase);
  return [ownDatabase, ...others];
}

/** Objects move to the admin (the data survives the lease); then privileges and default privileges go. */
async function dropOwnedIn(context: PgRevokeContext, database: string, quotedName: string): Promise<StatementFailure | undefined> {
  const admin = context.resource.admin;
  if (admin === undefined) return { where: 'REASSIGN OWNED', code: undefined, text: 'the resource has no admin user' };
  // One simple query: both statements run in one implicit transaction.
  const sql = `REASSIGN OWNED BY ${quotedName} TO ${quotePgIdent(admin.user)}; DROP OWNED BY ${quotedName}`;
  const where = `REASSIGN/DROP OWNED in database "${database}"`;
  if (database === context.resource.database) {
    try {
      await context.pool.query(sql);
      return undefined;
    } catch (error) {
      return statementFailure(where, error);
    }
  }
  const client = context.connectTo(database);
  client.on('error', () => {}); // a server closing the socket late must not become an unhandled 'error' event
  try {
    await client.connect();
    await client.query(sql);
    return undefined;
  } catch (error) {
    return statementFailure(where, error);
  } finally {
    await client.end().catch(() => {});
  }
}
