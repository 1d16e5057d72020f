// The real-client MySQL suite of issue 6 (acceptance 1): the mariadb CLI and mysql2 against one MysqlTarget, with
// assertions that hold for MariaDB reached directly and through jitgate alike (STYLE rule 14). A test file builds
// the target in beforeAll and hands a getter; scenarios read it when they run, and skip (printing why) the paths the
// target does not offer (TLS, an auth plugin). Each scenario makes its own tables in the target's database, with
// a prefix per file: cli_, q_, x_, v_, ap_.
import { defineAppPatternScenarios } from './mysql-scenarios/app-patterns.js';
import { defineAuthScenarios } from './mysql-scenarios/auth.js';
import { defineCliScenarios } from './mysql-scenarios/cli.js';
import { defineCliAuthScenarios } from './mysql-scenarios/cli-auth.js';
import { defineExecuteScenarios } from './mysql-scenarios/execute.js';
import { defineQueryScenarios } from './mysql-scenarios/query.js';
import { defineVolumeScenarios } from './mysql-scenarios/volume.js';
import type { MysqlTarget } from './mysql-target.js';

export type { MysqlAuthPluginName, MysqlTarget } from './mysql-target.js';

export function defineMysqlClientScenarios(getTarget: () => MysqlTarget): void {
  defineCliScenarios(getTarget);
  defineCliAuthScenarios(getTarget);
  defineQueryScenarios(getTarget);
  defineExecuteScenarios(getTarget);
  defineVolumeScenarios(getTarget);
  defineAuthScenarios(getTarget);
  defineAppPatternScenarios(getTarget);
}
