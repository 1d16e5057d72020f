// The real-client Postgres suite (issue 5, acceptance 1): every scenario takes its target lazily, so one test file runs
// it against PostgreSQL itself and another through jitgate, with identical assertions (STYLE rule 14).
import { describe } from 'vitest';
import type { PgTarget } from './pg-target.js';
import { defineDriverMistakeScenarios } from './pg-scenarios/driver-mistakes.js';
import { defineErrorScenarios } from './pg-scenarios/errors.js';
import { defineLargeScenarios } from './pg-scenarios/large.js';
import { defineNodePostgresScenarios } from './pg-scenarios/node-postgres.js';
import { definePostgresJsScenarios } from './pg-scenarios/postgres-js.js';
import { definePsqlScenarios } from './pg-scenarios/psql.js';

/** Declares the suite; `getTarget` is called inside hooks and tests only, once the target exists. */
export function definePgClientScenarios(getTarget: () => PgTarget): void {
  describe('real Postgres clients', () => {
    definePsqlScenarios(getTarget);
    defineNodePostgresScenarios(getTarget);
    definePostgresJsScenarios(getTarget);
    defineErrorScenarios(getTarget);
    defineDriverMistakeScenarios(getTarget);
    defineLargeScenarios(getTarget);
  });
}
