// Errors reach each client with their SQLSTATE and fields intact: a syntax error (42601) and a unique violation
// (23505), in psql, node-postgres (simple and extended) and postgres.js (prepared and simple).
import { describe, expect, it } from 'vitest';
import type { PgTarget } from '../pg-target.js';
import { psqlOk, runPsql } from './run-psql.js';
import { useScenarioScope } from './scope.js';

/** The error a promise rejects with, or a thrown complaint that it did not reject. */
async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  if (typeof error !== 'object' || error === null) throw new Error(`expected a rejection, got ${String(error)}`);
  return error as Record<string, unknown>;
}

const SYNTAX_ERROR = 'selec 1';

export function defineErrorScenarios(getTarget: () => PgTarget): void {
  describe('errors carry their SQLSTATE', () => {
    const scope = useScenarioScope(getTarget);

    const tableWithRow = async (prefix: string): Promise<string> => {
      const t = scope.table(prefix);
      await psqlOk(getTarget(), ['-c', `create table ${t} (id int primary key)`, '-c', `insert into ${t} values (1)`]);
      return t;
    };

    it('psql: 42601 and 23505 with VERBOSITY=verbose, and the unique violation\'s detail', async () => {
      const t = await tableWithRow('err_psql');
      const syntax = await runPsql(getTarget(), ['-v', 'VERBOSITY=verbose', '-c', SYNTAX_ERROR]);
      expect(syntax.code).toBe(1);
      expect(syntax.stderr).toContain('ERROR:  42601: syntax error at or near "selec"');
      expect(syntax.stderr).toContain('LINE 1: selec 1');
      const unique = await runPsql(getTarget(), ['-v', 'VERBOSITY=verbose', '-c', `insert into ${t} values (1)`]);
      expect(unique.code).toBe(1);
      expect(unique.stderr).toContain(`ERROR:  23505: duplicate key value violates unique constraint "${t}_pkey"`);
      expect(unique.stderr).toContain('DETAIL:  Key (id)=(1) already exists.');
    });

    it('node-postgres: both codes, simple and extended, with position, constraint and detail', async () => {
      const client = await scope.pgClient();
      const t = await tableWithRow('err_pg');
      for (const query of [() => client.query(SYNTAX_ERROR), () => client.query({ text: `${SYNTAX_ERROR} + $1::int`, values: [1] })]) {
        expect(await rejection(query())).toMatchObject({ code: '42601', position: '1', severity: 'ERROR', message: 'syntax error at or near "selec"' });
      }
      for (const query of [() => client.query(`insert into ${t} values (1)`), () => client.query(`insert into ${t} values ($1)`, [1])]) {
        expect(await rejection(query())).toMatchObject({
          code: '23505', constraint: `${t}_pkey`, table: t, schema: 'public', detail: 'Key (id)=(1) already exists.',
        });
      }
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    });

    it('postgres.js: both codes, prepared and simple, with constraint and detail', async () => {
      const sql = scope.postgresJs();
      const t = await tableWithRow('err_pgjs');
      for (const query of [() => sql.unsafe(SYNTAX_ERROR), () => sql.unsafe(SYNTAX_ERROR).simple()]) {
        expect(await rejection(query())).toMatchObject({ code: '42601', position: '1', message: 'syntax error at or near "selec"' });
      }
      for (const query of [() => sql`insert into ${sql(t)} values (${1})`, () => sql.unsafe(`insert into ${t} values (1)`).simple()]) {
        expect(await rejection(query())).toMatchObject({
          code: '23505', constraint_name: `${t}_pkey`, table_name: t, detail: 'Key (id)=(1) already exists.',
        });
      }
      expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
    });
  });
}
