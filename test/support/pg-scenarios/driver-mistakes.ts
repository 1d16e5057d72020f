// What node-postgres itself gets wrong, driven exactly as an application would, and answered by the server in its own
// way — which a proxy must repeat byte for byte, since the driver's handling is built around the server's answer:
// - a query with more than 65535 parameters: pg writes the Bind's two 16-bit counts modulo 2^16 (70000 → 4464) but
//   all 70000 format codes and values; the server reads 4464 formats, then a parameter count of 0 from the next
//   format code, and answers ERROR 08P01; the connection goes on after Sync;
// - `client.end()` while `connect()` is still under way (an app abandoning a connection before it is ready): pg
//   writes Terminate before its startup packet; the server reads 'X' 00 00 00 as the packet's length, logs "invalid
//   length of startup packet" and closes without a byte; pg, which asked to end, reports nothing to the app.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { PgTarget } from '../pg-target.js';
import { pgConfig, useScenarioScope, within } from './scope.js';

/** More parameters than Bind's 16-bit counts hold, as an IN list: what an app's "fetch these ids" query becomes. */
export const OVERFLOWING_PARAMETER_COUNT = 70_000;

export function overflowingParameterQuery(count = OVERFLOWING_PARAMETER_COUNT): { text: string; values: number[] } {
  const values = Array.from({ length: count }, (_, i) => i + 1);
  const list = values.map((_, i) => `$${i + 1}`).join(', ');
  return { text: `select count(*) as found from generate_series(1, 10) as g(id) where id in (${list})`, values };
}

/** The server's words for pg's overflowed Bind (70000 & 0xffff = 4464 formats, then a count read from a format code). */
export const OVERFLOWED_BIND_ERROR = 'bind message has 4464 parameter formats but 0 parameters';

/** The error a promise rejects with, or a thrown complaint that it did not reject. */
async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  if (typeof error !== 'object' || error === null) throw new Error(`expected a rejection, got ${String(error)}`);
  return error as Record<string, unknown>;
}

export function defineDriverMistakeScenarios(getTarget: () => PgTarget): void {
  describe('node-postgres mistakes the server forgives', () => {
    const scope = useScenarioScope(getTarget);

    it('a query with 70,000 parameters: the server\'s ERROR 08P01, and the connection goes on', async () => {
      const client = await scope.pgClient(); // an 'error' event (a FATAL, a lost connection) fails the test
      const { text, values } = overflowingParameterQuery();
      expect(await rejection(client.query(text, values))).toMatchObject({ severity: 'ERROR', code: '08P01', message: OVERFLOWED_BIND_ERROR });
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      expect((await client.query('select $1::int + 1 as two', [1])).rows).toEqual([{ two: 2 }]);
    });

    it('client.end() while connect() is under way: end() resolves and nothing reaches the app', async () => {
      const client = new pg.Client(pgConfig(getTarget()));
      const errors: string[] = [];
      client.on('error', (error) => errors.push(String(error)));
      let connect = 'pending';
      void client.connect().then(() => { connect = 'connected'; }, (error: unknown) => { connect = `rejected: ${String(error)}`; });
      await within(5_000, 'client.end()', client.end());
      // Room for a late answer (an ErrorResponse, a reset) to reach the driver before the verdict.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // pg drops the connect callback of a client it was told to end: neither settles, and no 'error' is emitted.
      expect({ connect, errors }).toEqual({ connect: 'pending', errors: [] });
    });
  });
}
