// The client auth paths: mysql2 with its defaults, and mysql2 restricted to one plugin (mysql_native_password or
// caching_sha2_password), each in the clear and over TLS, each also with a wrong password (ERR 1045, 28000).
//
// mysql2 answers the greeting with the plugin the server named in it (a built-in one), else with a native token;
// a server can then AuthSwitchRequest it to any plugin. "Restricted to one plugin" means: every other plugin's
// handler refuses, so a switch to it fails the login; and when the client cannot start with the plugin under test
// (only caching_sha2_password, when the greeting names another), the server must switch the client to it, which a
// recording handler observes. MariaDB's wrong password text and jitgate's differ after "Access denied for user".
import mysqlCallback from 'mysql2';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { MysqlAuthPluginName, MysqlTarget } from '../mysql-target.js';
import {
  authPluginsOf, clientTlsProtocol, connectionOptions, pluginSkipReason, rowsOf, serverErrorOf, skipWithReason,
  TLS_WITHOUT_VERIFY, tlsSkipReason,
} from './connect.js';
import { readServerGreeting } from './greeting.js';

type AuthPluginHandler = NonNullable<mysql.ConnectionOptions['authPlugins']>[string];

const CLIENT_PLUGINS = ['mysql_native_password', 'caching_sha2_password', 'sha256_password', 'mysql_clear_password'] as const;

const refuse = (name: string): AuthPluginHandler => () => () => {
  throw new Error(`the server switched this client to ${name}, which the scenario does not allow`);
};

/**
 * mysql2's own handler for `name`, noting each AuthSwitchRequest / AuthMoreData it is given. (`authPlugins` is
 * exported by 'mysql2' only: 'mysql2/promise' types it but leaves it undefined at run time.)
 */
function recording(name: MysqlAuthPluginName, calls: string[]): AuthPluginHandler {
  return (metadata) => {
    const inner = mysqlCallback.authPlugins[name]({})(metadata);
    return (data) => {
      calls.push(name);
      return inner(data);
    };
  };
}

interface PluginPlan {
  readonly options: mysql.ConnectionOptions;
  /** Calls of the plugin under test's handler; when `mustSwitch`, the login must have made some. */
  readonly calls: string[];
  readonly mustSwitch: boolean;
}

/** authPlugins that let the client complete `plugin` and nothing else, given the plugin the greeting names. */
function planFor(plugin: MysqlAuthPluginName, greetingPlugin: string | undefined): PluginPlan {
  const calls: string[] = [];
  const authPlugins: Record<string, AuthPluginHandler> = {};
  for (const other of CLIENT_PLUGINS) if (other !== plugin) authPlugins[other] = refuse(other);
  // mysql2 starts with the greeting's plugin when it has it built in and no custom handler is set for it (so none
  // is set for the plugin under test then), else with a native token. Starting elsewhere, the server has to switch
  // the client over to the plugin under test, and the recording handler sees that.
  const startsWith = greetingPlugin === plugin ? plugin : 'mysql_native_password';
  const mustSwitch = startsWith !== plugin;
  if (mustSwitch) authPlugins[plugin] = recording(plugin, calls);
  return { options: { authPlugins }, calls, mustSwitch };
}

type Mode = 'defaults' | MysqlAuthPluginName;

const MODES: readonly Mode[] = ['defaults', 'mysql_native_password', 'caching_sha2_password'];

async function expectLoginWorks(target: MysqlTarget, options: mysql.ConnectionOptions, tls: boolean): Promise<void> {
  const connection = await mysql.createConnection(connectionOptions(target, options));
  try {
    const [result] = await connection.query('select 1 + 1 as two, database() as db');
    expect(rowsOf(result)).toEqual([{ two: 2, db: target.database }]);
    const protocol = clientTlsProtocol(connection);
    if (tls) expect(protocol).toMatch(/^TLSv1\.[23]$/);
    else expect(protocol).toBeNull();
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

async function expectWrongPasswordRefused(target: MysqlTarget, options: mysql.ConnectionOptions): Promise<void> {
  const refused = await serverErrorOf(mysql.createConnection(connectionOptions(target, { ...options, password: `${target.password}x` })));
  expect(refused).toMatchObject({ errno: 1045, sqlState: '28000', code: 'ER_ACCESS_DENIED_ERROR' });
  expect(refused.message).toMatch(/^Access denied for user /);
}

export function defineAuthScenarios(getTarget: () => MysqlTarget): void {
  describe('mysql2 auth paths', () => {
    it('the greeting names a plugin the target offers', async () => {
      const target = getTarget();
      const greeting = await readServerGreeting(target.host, target.port);
      expect(greeting.protocolVersion).toBe(10);
      expect(authPluginsOf(target)).toContain(greeting.authPluginName);
    });

    for (const mode of MODES) {
      for (const tls of [false, true]) {
        const label = `${mode === 'defaults' ? 'authPlugins defaults' : `only ${mode}`} ${tls ? 'over TLS' : 'in the clear'}`;
        it(`${label}: logs in; a wrong password gets ERR 1045 (28000)`, async (context) => {
          const target = getTarget();
          const reasons = [tls ? tlsSkipReason(target) : undefined, mode === 'defaults' ? undefined : pluginSkipReason(target, mode)];
          const reason = reasons.filter((text) => text !== undefined).join('; ');
          if (reason !== '') skipWithReason(context, reason);

          const ssl: mysql.ConnectionOptions = tls ? { ssl: TLS_WITHOUT_VERIFY } : {};
          if (mode === 'defaults') {
            await expectLoginWorks(target, ssl, tls);
            await expectWrongPasswordRefused(target, ssl);
            return;
          }
          const greeting = await readServerGreeting(target.host, target.port);
          const plan = planFor(mode, greeting.authPluginName);
          await expectLoginWorks(target, { ...ssl, ...plan.options }, tls);
          if (plan.mustSwitch) {
            // The client started with another plugin: only an AuthSwitchRequest can have led to the one under test.
            expect(plan.calls, `the greeting named ${String(greeting.authPluginName)} and no switch to ${mode} came`)
              .toContain(mode);
          }
          await expectWrongPasswordRefused(target, { ...ssl, ...plan.options });
        });
      }
    }
  });
}
