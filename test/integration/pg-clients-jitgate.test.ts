// The real-client Postgres suite through jitgate: the same scenarios as pg-clients-direct.test.ts, assertion for
// assertion, but logged in with a grant and relayed by the engine to a lease user of the builtin broker.
import { afterAll, beforeAll } from 'vitest';
import { definePgClientScenarios } from '../support/pg-client-scenarios.js';
import { createJitgatePgTarget, type PgTargetHandle } from '../support/pg-target.js';

let handle: PgTargetHandle | undefined;

beforeAll(async () => {
  handle = await createJitgatePgTarget();
});

afterAll(async () => {
  await handle?.cleanup();
});

definePgClientScenarios(() => {
  if (handle === undefined) throw new Error('the jitgate target was not created (see beforeAll)');
  return handle.target;
});
