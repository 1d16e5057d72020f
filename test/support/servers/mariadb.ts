// A throwaway MariaDB for one test run: mariadb-install-db into a temp dir, mariadbd on 127.0.0.1 and a private
// socket, root with a random password (set before the first connection), and a `test` database.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mysqlString, mysqlTargetFromUrl, runMysql, type MysqlTarget } from '../mysql-cli.js';
import {
  findExecutable, freePort, removeDirOnExit, runningAsRoot, runToCompletion, sharedTmpdir, startDaemon, waitUntilReady,
} from './processes.js';
import type { TestServer } from './test-server.js';

const START_ATTEMPTS = 3;
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];

export interface MariadbBinaries {
  readonly installDb: string;
  readonly server: string;
}

export function findMariadbBinaries(): MariadbBinaries | undefined {
  const installDb = findExecutable(['mariadb-install-db', 'mysql_install_db'], SBIN);
  const server = findExecutable(['mariadbd', 'mysqld'], SBIN);
  return installDb === undefined || server === undefined ? undefined : { installDb, server };
}

// Small buffers and no flush per commit: a throwaway server should start in a second and not fight the tests for RAM.
const SERVER_OPTIONS = [
  '--bind-address=127.0.0.1',
  '--skip-grant-tables=OFF',
  '--skip-name-resolve',
  '--innodb-buffer-pool-size=64M',
  '--innodb-log-file-size=16M',
  '--innodb-flush-log-at-trx-commit=0',
  '--max-connections=300',
];

export async function canQuery(target: MysqlTarget): Promise<boolean> {
  try {
    await runMysql(target, 'select 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Run by mariadbd before it accepts connections, so root is never reachable without a password. mariadb-install-db
 * creates root on localhost, 127.0.0.1, ::1 and the host name; the last is useless under skip-name-resolve.
 */
function initSql(password: string): string {
  const lockRoot = ['localhost', '127.0.0.1', '::1']
    .map((host) => `alter user if exists 'root'@${mysqlString(host)} identified by ${mysqlString(password)};`);
  return [...lockRoot, `drop user if exists 'root'@${mysqlString(hostname())};`, 'create database if not exists test;', ''].join('\n');
}

export interface ThrowawayMariadbOptions {
  /**
   * Turn the general query log on, to a file in the server's temp dir (`log_output=FILE`: the bytes exactly as
   * the server saw them, where the TABLE form converts them to the column's character set and cuts at 16 MiB).
   */
  readonly generalLog?: boolean;
}

export interface ThrowawayMariadb extends TestServer {
  /** The general query log file, when `generalLog` was asked for. */
  readonly generalLogPath: string | null;
}

export async function startThrowawayMariadb(binaries: MariadbBinaries, options: ThrowawayMariadbOptions = {}): Promise<ThrowawayMariadb> {
  const dir = await mkdtemp(join(sharedTmpdir(), 'jitgate-test-mysql-'));
  const forgetDir = removeDirOnExit(dir);
  const removeDir = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    forgetDir();
  };
  try {
    const dataDir = join(dir, 'data');
    const socket = join(dir, 'mysqld.sock');
    const logPath = join(dir, 'mariadbd.log');
    // mariadbd refuses to run as root unless told to; the data dir is ours, so that is what we want.
    const userArgs = runningAsRoot() ? ['--user=root'] : [];
    await runToCompletion(binaries.installDb, [
      '--no-defaults', '--auth-root-authentication-method=normal', `--datadir=${dataDir}`, '--skip-test-db',
      ...userArgs,
    ], { logPath: join(dir, 'install-db.log'), cwd: dir });

    const password = randomBytes(18).toString('base64url');
    const initFile = join(dir, 'init.sql');
    const generalLogPath = options.generalLog === true ? join(dir, 'general.log') : null;
    const logOptions = generalLogPath === null ? [] : ['--general-log=1', '--log-output=FILE', `--general-log-file=${generalLogPath}`];
    await writeFile(initFile, initSql(password), { mode: 0o600 });
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const daemon = startDaemon(binaries.server, [
        '--no-defaults', ...userArgs, `--datadir=${dataDir}`, `--socket=${socket}`, `--port=${port}`,
        `--pid-file=${join(dir, 'mariadbd.pid')}`, `--log-error=${logPath}`, `--init-file=${initFile}`, ...SERVER_OPTIONS, ...logOptions,
      ], { logPath: join(dir, 'mariadbd.out'), cwd: dir });
      const adminUrl = `mysql://root:${password}@127.0.0.1:${port}/test`;
      try {
        await waitUntilReady('mariadbd', daemon, logPath, () => canQuery(mysqlTargetFromUrl(adminUrl)));
      } catch (error) {
        await daemon.stop('SIGKILL');
        // Someone may have taken the port between freePort() and bind(): try another one.
        if (attempt < START_ATTEMPTS && /bind on tcp\/ip port|already in use/i.test(String(error))) continue;
        throw error;
      }
      return {
        adminUrl,
        logPath,
        generalLogPath,
        async stop() {
          await daemon.stop('SIGTERM');
          await removeDir();
        },
      };
    }
  } catch (error) {
    await removeDir();
    throw error;
  }
}
