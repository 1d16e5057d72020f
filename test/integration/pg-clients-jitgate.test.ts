// The real-client Postgres suite through jitgate: the same scenarios as pg-clients-direct.test.ts, assertion for
// assertion, but logged in with a grant and relayed by the engine to a lease user of the builtin broker. Then what
// only jitgate has: the audit trail of what the tap could not decode.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHeadSeq, waitForAudit } from '../support/audit-reader.js';
import type { JitgateInstance } from '../support/jitgate-instance.js';
import { definePgClientScenarios } from '../support/pg-client-scenarios.js';
import { OVERFLOWED_BIND_ERROR, overflowingParameterQuery } from '../support/pg-scenarios/driver-mistakes.js';
import { pgConfig, sqlstateOf } from '../support/pg-scenarios/scope.js';
import { createJitgatePgTarget, type PgTargetHandle } from '../support/pg-target.js';

let handle: (PgTargetHandle & { readonly instance: JitgateInstance }) | undefined;

beforeAll(async () => {
  handle = await createJitgatePgTarget();
});

afterAll(async () => {
  await handle?.cleanup();
});

const target = (): PgTargetHandle & { readonly instance: JitgateInstance } => {
  if (handle === undefined) throw new Error('the jitgate target was not created (see beforeAll)');
  return handle;
};

definePgClientScenarios(() => target().target);

describe('the audit of what the tap could not decode', () => {
  it('pg\'s overflowed Bind: one statement event with its SQL, an `undecoded` note and the server\'s 08P01', async () => {
    const { instance } = target();
    const mark = await auditHeadSeq(instance.handle);
    const client = new pg.Client(pgConfig(target().target));
    await client.connect();
    const { text, values } = overflowingParameterQuery();
    expect(await sqlstateOf(client.query(text, values))).toBe('08P01');
    await client.end();
    const event = await waitForAudit(instance.handle, mark, (candidate) => candidate.type === 'statement' && candidate.sql === text);
    expect(event).toMatchObject({
      kind: 'bind_execute',
      error: { code: '08P01', message: OVERFLOWED_BIND_ERROR },
      undecoded: OVERFLOWED_BIND_ERROR,
    });
    expect(event.params).toBeUndefined(); // none could be read; the 70,000 values are not guessed at
    const ended = await waitForAudit(instance.handle, mark, (candidate) => candidate.type === 'session.ended' && candidate.session === event.session);
    expect(ended.reason).toBe('client_closed');
  });
});
