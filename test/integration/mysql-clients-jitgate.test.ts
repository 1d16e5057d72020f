// The real-client MySQL suite through jitgate: the same scenarios and assertions as mysql-clients-direct.test.ts.
import { afterAll, beforeAll, describe } from 'vitest';
import { defineMysqlClientScenarios } from '../support/mysql-client-scenarios.js';
import { createJitgateMysqlTarget, type MysqlTargetHandle } from '../support/mysql-target.js';

describe('MySQL clients, through jitgate to MariaDB', () => {
  let direct: MysqlTargetHandle | undefined;
  beforeAll(async () => {
    direct = await createJitgateMysqlTarget('jitgate');
  });
  afterAll(async () => {
    await direct?.cleanup();
  });

  defineMysqlClientScenarios(() => {
    if (direct === undefined) throw new Error('the jitgate MySQL target was not created (see beforeAll)');
    return direct.target;
  });
});
