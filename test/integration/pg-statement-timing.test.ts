// A statement event's duration covers the statement, from the moment its Query or Execute was sent to its reply,
// for simple and extended queries; the statements of one multi-statement Query add up to its time.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForAudit, type RecordedEvent } from '../support/audit-reader.js';
import { createJitgatePgTarget, type PgTargetHandle } from '../support/pg-target.js';

let target: Awaited<ReturnType<typeof createJitgatePgTarget>> | undefined;

beforeAll(async () => {
  target = await createJitgatePgTarget('pg_timing');
});

afterAll(async () => {
  await (target as PgTargetHandle | undefined)?.cleanup();
});

const durationOf = (event: RecordedEvent): number => Number(event.duration_us);

describe('statement timing', () => {
  it('times simple, multi-statement and extended queries from send to reply', async () => {
    if (!target) throw new Error('no target');
    const { handle } = target.instance;
    const client = new pg.Client({ connectionString: target.target.url });
    await client.connect();
    try {
      await client.query('select pg_sleep(0.2)');
      await client.query('select pg_sleep(0.1); select pg_sleep(0.15)');
      await client.query('select pg_sleep($1::float8)', [0.12]);
    } finally {
      await client.end();
    }
    const slept = (sql: string) => (event: RecordedEvent): boolean => event.type === 'statement' && event.sql === sql;
    const single = await waitForAudit(handle, 0, slept('select pg_sleep(0.2)'));
    const first = await waitForAudit(handle, 0, slept('select pg_sleep(0.1)'));
    const second = await waitForAudit(handle, 0, slept('select pg_sleep(0.15)'));
    const extended = await waitForAudit(handle, 0, slept('select pg_sleep($1::float8)'));
    expect(durationOf(single)).toBeGreaterThanOrEqual(195_000);
    // The server flushes a multi-statement Query's replies together at its end, so the split between its statements
    // is what the wire shows; their sum is the Query's time.
    expect(durationOf(first) + durationOf(second)).toBeGreaterThanOrEqual(245_000);
    expect(durationOf(extended)).toBeGreaterThanOrEqual(115_000);
  });
});
