// The builtin broker's PostgreSQL side: one small admin pool per resource. Creation statements run in ONE
// transaction, so a failed template leaves nothing behind; VALID UNTIL is enforced even when a template forgot it
// (DESIGN §2: the database's own lock, in case jitgate is not there to revoke).
import pg from 'pg';
import type { ResourceConfig } from '../../config/schema.js';
import type { RevocationCheck } from '../broker.js';
import type { EngineAdmin, EngineAdminOptions, LeaseUserRef, NewLeaseUser } from './admin.js';
import { BuiltinBrokerError, describeDatabaseError, type BuiltinOperation } from './errors.js';
import { revokePostgresUser } from './postgres-revoke.js';
import { inPgTransaction, runPgStatements, statementFailure, type StatementFailure } from './postgres-statements.js';
import { quotePgIdent, quotePgLiteral } from './quoting.js';
import { formatExpiration, renderStatements } from './templates.js';
import { pgSslOptions } from './tls-options.js';

export class PostgresAdmin implements EngineAdmin {
  readonly #resource: ResourceConfig;
  readonly #options: EngineAdminOptions;
  readonly #pool: pg.Pool;

  constructor(resource: ResourceConfig, options: EngineAdminOptions) {
    this.#resource = resource;
    this.#options = options;
    this.#pool = new pg.Pool({ ...this.#clientConfig(resource.database), max: options.poolSize, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
    this.#pool.on('error', (error) => options.onIdleError(error));
  }

  #clientConfig(database: string): pg.ClientConfig {
    const { host, port, admin, tls } = this.#resource;
    if (admin === undefined) throw new BuiltinBrokerError('issue', this.#resource.name, 'has no admin credentials');
    return {
      host, port, database, user: admin.user,
      // An empty password leaves pg to PGPASSWORD / ~/.pgpass, as psql would.
      password: admin.password === '' ? undefined : admin.password,
      ssl: pgSslOptions(tls, host),
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      statement_timeout: this.#options.statementTimeoutMs,
      application_name: 'jitgate-broker',
    };
  }

  #fail(operation: BuiltinOperation, detail: string, error: unknown, secrets: readonly string[] = []): BuiltinBrokerError {
    const described = describeDatabaseError(error, secrets);
    return new BuiltinBrokerError(operation, this.#resource.name, `${detail}: ${described.text}`, described.code);
  }

  async #query<Row extends pg.QueryResultRow>(operation: BuiltinOperation, sql: string, params: unknown[] = [], detail = 'failed'): Promise<Row[]> {
    try {
      return (await this.#pool.query<Row>(sql, params)).rows;
    } catch (error) {
      throw this.#fail(operation, detail, error);
    }
  }

  async createUser(user: NewLeaseUser): Promise<void> {
    const password = user.password.reveal();
    const statements = renderStatements('creation_statements', user.roleConfig.creation_statements ?? [],
      { name: user.username, password, expiration: user.expiresAt }, this.#resource);
    // The name is the grant's: an existing user is an earlier lease of it, and the cleanup below would drop it.
    if ((await this.checkUser(user.username, 'issue', `role "${user.role}": checking for an existing user`)).userExists) {
      throw new BuiltinBrokerError('issue', this.#resource.name,
        `role "${user.role}": user "${user.username}" already exists (an earlier lease of this grant was not revoked)`);
    }
    const failure = await this.#createInTransaction(user, statements, [password]);
    if (failure === undefined) return;
    const cleanup = await this.#cleanUpFailedCreation(user);
    throw new BuiltinBrokerError('issue', this.#resource.name,
      `role "${user.role}": ${failure.where} failed: ${failure.text}${cleanup}`, failure.code);
  }

  async #createInTransaction(user: NewLeaseUser, statements: readonly string[], secrets: readonly string[]): Promise<StatementFailure | undefined> {
    try {
      return await inPgTransaction(this.#pool, async (client) =>
        await runPgStatements(client, 'creation_statements', statements, secrets) ?? await this.#enforceValidUntil(client, user), secrets);
    } catch (error) {
      throw this.#fail('issue', `role "${user.role}": cannot connect`, error);
    }
  }

  /** Inside the creation transaction: the user must exist, and must not outlive the lease. */
  async #enforceValidUntil(client: pg.PoolClient, user: NewLeaseUser): Promise<StatementFailure | undefined> {
    const where = 'creation_statements';
    try {
      const { rows } = await client.query<{ uncapped: boolean }>(
        'select rolvaliduntil is null or rolvaliduntil > $2::timestamptz as uncapped from pg_roles where rolname = $1',
        [user.username, user.expiresAt.toISOString()]);
      const row = rows[0];
      if (row === undefined) return { where, code: undefined, text: `did not create the user "${user.username}" ({{name}})` };
      if (row.uncapped) {
        await client.query(`ALTER ROLE ${quotePgIdent(user.username)} VALID UNTIL ${quotePgLiteral(formatExpiration(user.expiresAt))}`);
      }
      return undefined;
    } catch (error) {
      return statementFailure(`${where} (VALID UNTIL check)`, error);
    }
  }

  /** After the rollback nothing should exist; rollback_statements and then the safe default make sure. */
  async #cleanUpFailedCreation(user: NewLeaseUser): Promise<string> {
    const notes: string[] = [];
    const rollback = renderStatements('rollback_statements', user.roleConfig.rollback_statements ?? [], { name: user.username }, this.#resource);
    if (rollback.length > 0) {
      // Outside a transaction: each one that works should stay done even if a later one fails.
      const failure = await this.#pool.connect().then(async (client) => {
        try {
          return await runPgStatements(client, 'rollback_statements', rollback);
        } finally {
          client.release();
        }
      }, (error: unknown) => statementFailure('rollback_statements (connect)', error));
      if (failure !== undefined) notes.push(`${failure.where} failed: ${failure.text}`);
    }
    try {
      if ((await this.checkUser(user.username, 'issue')).userExists) {
        await this.dropUser({ role: user.role, roleConfig: undefined, username: user.username });
        notes.push('the user the statements left behind was removed');
      }
    } catch (error) {
      notes.push(`the user may be left behind: ${describeDatabaseError(error).text}`);
    }
    return notes.length === 0 ? '' : `; ${notes.join('; ')}`;
  }

  async extendUser(user: LeaseUserRef, expiresAt: Date): Promise<void> {
    const renew = renderStatements('renew_statements', user.roleConfig?.renew_statements ?? [], { name: user.username, expiration: expiresAt }, this.#resource);
    const alter = `ALTER ROLE ${quotePgIdent(user.username)} VALID UNTIL ${quotePgLiteral(formatExpiration(expiresAt))}`;
    let failure: StatementFailure | undefined;
    try {
      failure = await inPgTransaction(this.#pool, async (client) => {
        try {
          await client.query(alter);
        } catch (error) {
          return statementFailure('ALTER ROLE … VALID UNTIL', error);
        }
        return runPgStatements(client, 'renew_statements', renew);
      });
    } catch (error) {
      throw this.#fail('renew', `of user "${user.username}": cannot connect`, error);
    }
    if (failure !== undefined) {
      throw new BuiltinBrokerError('renew', this.#resource.name, `of user "${user.username}" failed at ${failure.where}: ${failure.text}`, failure.code);
    }
  }

  async dropUser(user: LeaseUserRef): Promise<void> {
    await revokePostgresUser({
      resource: this.#resource,
      pool: this.#pool,
      connectTo: (database) => new pg.Client(this.#clientConfig(database)),
      sessionDrainTimeoutMs: this.#options.sessionDrainTimeoutMs,
    }, user);
    const check = await this.checkUser(user.username, 'revoke');
    if (check.userExists || check.sessions > 0) {
      throw new BuiltinBrokerError('revoke', this.#resource.name,
        `of user "${user.username}" did not finish: user ${check.userExists ? 'still exists' : 'is gone'}, ${check.sessions} session(s) left`);
    }
  }

  async checkUser(username: string, operation: BuiltinOperation = 'exists', detail = `checking user "${username}" failed`): Promise<RevocationCheck> {
    const rows = await this.#query<{ roles: number; sessions: number }>(operation,
      'select (select count(*) from pg_roles where rolname = $1)::int as roles, (select count(*) from pg_stat_activity where usename = $1)::int as sessions',
      [username], detail);
    return { userExists: (rows[0]?.roles ?? 0) > 0, sessions: rows[0]?.sessions ?? 0 };
  }

  async listManagedUsers(): Promise<string[]> {
    const rows = await this.#query<{ rolname: string }>('list', "select rolname from pg_roles where rolname like 'jg!_%' escape '!' order by rolname");
    return rows.map((row) => row.rolname);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
