// Running statement lists on the admin pool: one by one, stopping at the first failure, optionally inside one
// transaction. Failures come back as values naming the statement (`creation_statements[1]`), already scrubbed.
import type pg from 'pg';
import { describeDatabaseError } from './errors.js';
import type { StatementField } from './templates.js';

/** Where a statement list stopped, already stripped of secrets. */
export interface StatementFailure {
  /** `creation_statements[1]`, `COMMIT`, … */
  readonly where: string;
  readonly code: string | undefined;
  readonly text: string;
}

export const statementFailure = (where: string, error: unknown, secrets: readonly string[] = []): StatementFailure =>
  ({ where, ...describeDatabaseError(error, secrets) });

/** Runs `statements` one by one on `client`; the first failure stops the list. */
export async function runPgStatements(client: pg.ClientBase, field: StatementField | string, statements: readonly string[],
  secrets: readonly string[] = []): Promise<StatementFailure | undefined> {
  for (const [index, statement] of statements.entries()) {
    try {
      // Simple-query protocol: an element may hold several `;`-separated statements, as Vault's templates may.
      await client.query(statement);
    } catch (error) {
      return statementFailure(`${field}[${index}]`, error, secrets);
    }
  }
  return undefined;
}

/**
 * BEGIN, `work`, then COMMIT, or ROLLBACK when `work` reports a failure. Connecting failures are thrown (nothing
 * ran); a broken connection is taken out of the pool rather than handed to the next caller.
 */
export async function inPgTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<StatementFailure | undefined>,
  secrets: readonly string[] = []): Promise<StatementFailure | undefined> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const failure = await work(client);
    if (failure !== undefined) {
      await client.query('ROLLBACK');
      return failure;
    }
    try {
      await client.query('COMMIT');
    } catch (error) {
      return statementFailure('COMMIT', error, secrets);
    }
    return undefined;
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    return statementFailure('the transaction', error, secrets);
  } finally {
    client.release(broken);
  }
}
