// The real-client MySQL suite straight against the run's MariaDB: the baseline the jitgate run must match.
import { afterAll, beforeAll, describe } from 'vitest';
import { defineMysqlClientScenarios } from '../support/mysql-client-scenarios.js';
import { createDirectMysqlTarget, type MysqlTargetHandle } from '../support/mysql-target.js';

describe('MySQL clients, direct to MariaDB', () => {
  let direct: MysqlTargetHandle | undefined;
  beforeAll(async () => {
    direct = await createDirectMysqlTarget('direct');
  });
  afterAll(async () => {
    await direct?.cleanup();
  });

  defineMysqlClientScenarios(() => {
    if (direct === undefined) throw new Error('the direct MySQL target was not created (see beforeAll)');
    return direct.target;
  });
});
