// The real-client Postgres suite straight against the run's PostgreSQL: the baseline that pg-clients-jitgate.test.ts
// must match assertion for assertion. The target is a scratch database and a role with a readwrite grant's privileges.
import { afterAll, beforeAll } from 'vitest';
import { definePgClientScenarios } from '../support/pg-client-scenarios.js';
import { createDirectPgTarget, type PgTargetHandle } from '../support/pg-target.js';

let handle: PgTargetHandle | undefined;

beforeAll(async () => {
  handle = await createDirectPgTarget('pg_clients');
});

afterAll(async () => {
  await handle?.cleanup();
});

definePgClientScenarios(() => {
  if (handle === undefined) throw new Error('the direct target was not created (see beforeAll)');
  return handle.target;
});
