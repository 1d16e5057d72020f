// The mariadb CLI's own auth paths (issue 19 defect 1): libmariadb told to start with one plugin
// (`--default-auth=…`), in the clear and over TLS, and a wrong password refused with ERROR 1045 in each. When the
// plugin it starts with is not the greeting's, libmariadb sends an empty auth response naming its own plugin and
// waits for the server's AuthSwitchRequest; MariaDB answers that, and so must jitgate. Against MariaDB (greeting
// mysql_native_password) `--default-auth=caching_sha2_password` is switched to native; through jitgate (greeting
// caching_sha2_password) `--default-auth=mysql_native_password` is switched to native.
import { describe, expect, it } from 'vitest';
import type { MysqlTarget } from '../mysql-target.js';
import { runMariadbCli } from './cli.js';
import { skipWithReason, tlsSkipReason } from './connect.js';

const PLUGINS = ['mysql_native_password', 'caching_sha2_password'] as const;

const ACCESS_DENIED = /^ERROR 1045 \(28000\)(?: at line \d+)?: Access denied for user /m;

export function defineCliAuthScenarios(getTarget: () => MysqlTarget): void {
  describe('mariadb CLI auth paths', () => {
    for (const plugin of PLUGINS) {
      for (const tls of [false, true]) {
        it(`--default-auth=${plugin} ${tls ? '--ssl' : '--skip-ssl'}: logs in; a wrong password gets ERROR 1045 (28000)`, async (context) => {
          const target = getTarget();
          const reason = tls ? tlsSkipReason(target) : undefined;
          if (reason !== undefined) skipWithReason(context, reason);
          const args = [`--default-auth=${plugin}`, tls ? '--ssl' : '--skip-ssl'];

          const login = await runMariadbCli(target, { args: [...args, '-e', 'select 6 * 7;\nstatus'] });
          expect(login.stderr).toBe('');
          expect(login.code).toBe(0);
          expect(login.stdout).toMatch(/^42$/m);
          expect(login.stdout).toMatch(tls ? /^SSL:\s+Cipher in use is \S+/m : /^SSL:\s+Not in use$/m);

          const refused = await runMariadbCli(target, { args: [...args, '-e', 'select 1'], password: `${target.password}x` });
          expect(refused.code).toBe(1);
          expect(refused.stdout).toBe('');
          expect(refused.stderr).toMatch(ACCESS_DENIED);
        });
      }
    }
  });
}
