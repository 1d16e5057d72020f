// The builtin broker's MySQL/MariaDB side. DDL commits implicitly, so creation cannot be one transaction: the
// statements run one by one, and after a failure rollback_statements and then DROP USER for every host the user
// got make sure nothing half-made survives. Neither server has a per-user expiry timestamp (MySQL's PASSWORD
// EXPIRE counts days; MariaDB has no VALID UNTIL), so renew changes nothing server-side: jitgate's revocation
// and its start-up sweep are what end a MySQL lease user.
import mysql from 'mysql2/promise';
import type { ResourceConfig } from '../../config/schema.js';
import type { RevocationCheck } from '../broker.js';
import { waitForZero, type EngineAdmin, type EngineAdminOptions, type LeaseUserRef, type NewLeaseUser } from './admin.js';
import { BuiltinBrokerError, describeDatabaseError, type BuiltinOperation } from './errors.js';
import { mysqlAccount } from './quoting.js';
import { renderStatements, type StatementField } from './templates.js';
import { mysqlSslOptions } from './tls-options.js';

const ER_NO_SUCH_THREAD = 1094;

interface StatementFailure {
  readonly where: string;
  readonly code: string | undefined;
  readonly text: string;
}

export class MysqlAdmin implements EngineAdmin {
  readonly #resource: ResourceConfig;
  readonly #options: EngineAdminOptions;
  readonly #pool: mysql.Pool;

  constructor(resource: ResourceConfig, options: EngineAdminOptions) {
    this.#resource = resource;
    this.#options = options;
    const { host, port, database, admin, tls } = resource;
    if (admin === undefined) throw new BuiltinBrokerError('issue', resource.name, 'has no admin credentials');
    const ssl = mysqlSslOptions(tls, host);
    this.#pool = mysql.createPool({
      host, port, database, user: admin.user, password: admin.password,
      connectionLimit: options.poolSize, maxIdle: options.poolSize, idleTimeout: 10_000,
      connectTimeout: options.connectTimeoutMs,
      // Vault's templates may put several `;`-separated statements in one element. Safe on this pool: every value
      // substituted into SQL here comes from an alphabet without quotes or `;`, or (the database name) is quoted
      // for where it stands (templates.ts).
      multipleStatements: true,
      ...(ssl === undefined ? {} : { ssl }),
    });
  }

  async #query(operation: BuiltinOperation, sql: string, values: unknown[] = [], detail = 'failed'): Promise<mysql.RowDataPacket[]> {
    try {
      const [rows] = await this.#pool.query<mysql.RowDataPacket[]>({ sql, values, timeout: this.#options.statementTimeoutMs });
      return rows;
    } catch (error) {
      const described = describeDatabaseError(error);
      throw new BuiltinBrokerError(operation, this.#resource.name, `${detail}: ${described.text}`, described.code);
    }
  }

  async #run(field: StatementField, statements: readonly string[], secrets: readonly string[] = []): Promise<StatementFailure | undefined> {
    for (const [index, sql] of statements.entries()) {
      try {
        await this.#pool.query({ sql, timeout: this.#options.statementTimeoutMs });
      } catch (error) {
        return { where: `${field}[${index}]`, ...describeDatabaseError(error, secrets) };
      }
    }
    return undefined;
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
    let failure = await this.#run('creation_statements', statements, [password]);
    if (failure === undefined && (await this.#hostsOf(user.username, 'issue')).length === 0) {
      failure = { where: 'creation_statements', code: undefined, text: `did not create the user "${user.username}" ({{name}})` };
    }
    if (failure === undefined) return;
    const cleanup = await this.#cleanUpFailedCreation(user);
    throw new BuiltinBrokerError('issue', this.#resource.name, `role "${user.role}": ${failure.where} failed: ${failure.text}${cleanup}`, failure.code);
  }

  async #cleanUpFailedCreation(user: NewLeaseUser): Promise<string> {
    const notes: string[] = [];
    const rollback = renderStatements('rollback_statements', user.roleConfig.rollback_statements ?? [], { name: user.username }, this.#resource);
    const failure = await this.#run('rollback_statements', rollback);
    if (failure !== undefined) notes.push(`${failure.where} failed: ${failure.text}`);
    try {
      if ((await this.checkUser(user.username, 'issue')).userExists) {
        await this.dropUser({ role: user.role, roleConfig: undefined, username: user.username });
        notes.push(`the user created before ${rollback.length > 0 ? 'rollback_statements' : 'the failure'} was dropped`);
      }
    } catch (error) {
      notes.push(`the user may be left behind: ${describeDatabaseError(error).text}`);
    }
    return notes.length === 0 ? '' : `; ${notes.join('; ')}`;
  }

  async extendUser(user: LeaseUserRef, expiresAt: Date): Promise<void> {
    if ((await this.#hostsOf(user.username, 'renew')).length === 0) {
      throw new BuiltinBrokerError('renew', this.#resource.name, `of user "${user.username}" failed: the user does not exist`);
    }
    // Vault ignores renew_statements for MySQL; an operator who wrote some expects them to run.
    const renew = renderStatements('renew_statements', user.roleConfig?.renew_statements ?? [], { name: user.username, expiration: expiresAt }, this.#resource);
    const failure = await this.#run('renew_statements', renew);
    if (failure !== undefined) {
      throw new BuiltinBrokerError('renew', this.#resource.name, `of user "${user.username}" failed at ${failure.where}: ${failure.text}`, failure.code);
    }
  }

  /**
   * Kill the user's connections, run revocation_statements or DROP USER for every host row, then kill again:
   * a session that logged in between the first kill and the drop is caught by the second. DROP USER alone
   * leaves sessions connected (VAULT.md §2).
   */
  async dropUser(user: LeaseUserRef): Promise<void> {
    const fail = (failure: StatementFailure): BuiltinBrokerError => new BuiltinBrokerError('revoke', this.#resource.name,
      `of user "${user.username}" failed at ${failure.where}: ${failure.text}`, failure.code);
    await this.#killSessions(user.username);
    const hosts = await this.#hostsOf(user.username, 'revoke');
    // Already gone (an earlier attempt won): nothing to drop, but sessions are still checked below.
    if (hosts.length > 0) {
      const revocation = renderStatements('revocation_statements', user.roleConfig?.revocation_statements ?? [], { name: user.username }, this.#resource);
      const drops = hosts.map((host) => `DROP USER IF EXISTS ${mysqlAccount(user.username, host)}`);
      const failure = revocation.length > 0 ? await this.#run('revocation_statements', revocation) : await this.#run('revocation_statements', drops);
      if (failure !== undefined) throw fail(revocation.length > 0 ? failure : { ...failure, where: 'DROP USER' });
    }
    // KILL only flags a thread: it leaves the processlist when it notices. Give it the drain time, then verify.
    await waitForZero(() => this.#killSessions(user.username), this.#options.sessionDrainTimeoutMs);
    const check = await this.checkUser(user.username, 'revoke');
    if (check.userExists || check.sessions > 0) {
      throw new BuiltinBrokerError('revoke', this.#resource.name,
        `of user "${user.username}" did not finish: user ${check.userExists ? 'still exists' : 'is gone'}, ${check.sessions} session(s) left`);
    }
  }

  /** KILL CONNECTION for each processlist row of the user; returns how many rows there were. */
  async #killSessions(username: string): Promise<number> {
    const rows = await this.#query('revoke', 'select ID as id from information_schema.processlist where USER = ?', [username],
      `of user "${username}" failed listing its sessions`);
    for (const row of rows) {
      const id: unknown = row.id;
      const threadId = Number(id);
      if (!Number.isSafeInteger(threadId)) continue;
      try {
        await this.#pool.query(`KILL CONNECTION ${threadId}`);
      } catch (error) {
        // The session ended by itself between the select and the kill.
        if (!(error instanceof Error && 'errno' in error && error.errno === ER_NO_SUCH_THREAD)) throw this.#revokeError(username, error);
      }
    }
    return rows.length;
  }

  #revokeError(username: string, error: unknown): BuiltinBrokerError {
    const described = describeDatabaseError(error);
    return new BuiltinBrokerError('revoke', this.#resource.name, `of user "${username}" failed at KILL CONNECTION: ${described.text}`, described.code);
  }

  /** Every host the user has an account on: templates may use hosts other than '%'. */
  async #hostsOf(username: string, operation: BuiltinOperation): Promise<string[]> {
    const rows = await this.#query(operation, 'select Host as host from mysql.user where User = ?', [username],
      `looking up the hosts of user "${username}" failed`);
    return rows.map((row) => String(row.host as unknown));
  }

  async checkUser(username: string, operation: BuiltinOperation = 'exists', detail = `checking user "${username}" failed`): Promise<RevocationCheck> {
    const rows = await this.#query(operation,
      `select (select count(*) from mysql.user where User = ?) as users,
              (select count(*) from information_schema.processlist where USER = ?) as sessions`, [username, username], detail);
    const row = rows[0];
    return { userExists: Number(row?.users ?? 0) > 0, sessions: Number(row?.sessions ?? 0) };
  }

  async listManagedUsers(): Promise<string[]> {
    const rows = await this.#query('list', "select distinct User as user from mysql.user where User like 'jg!_%' escape '!' order by User");
    return rows.map((row) => String(row.user as unknown));
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
