// What the MySQL benchmark runs against, each in a temp dir removed by stop(): a throwaway MariaDB (mariadb-install-db +
// mariadbd on a free port, tuned to measure the proxy rather than the disk), haproxy in `mode tcp` in front of it when
// installed. jitgate itself starts from jitgate.mjs; the bare Node pipe both sections show is node-pipe.mjs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execText as run, findExecutable, freePort, stopChild, tempDir, waitForPort } from './spawn.mjs';

/** `mariadb -e` as root over the private socket (the password in MYSQL_PWD, never on the command line). */
export const mariadbAdmin = (server, sql) => run('mariadb', ['--no-defaults', '-uroot', `--socket=${server.socket}`, '--batch', '-e', sql],
  { env: { ...process.env, MYSQL_PWD: server.password } });

export async function startMariadb() {
  const installDb = findExecutable('mariadb-install-db', 'mysql_install_db');
  const daemon = findExecutable('mariadbd', 'mysqld');
  if (!installDb || !daemon) throw new Error('the MySQL benchmark needs mariadb-install-db and mariadbd');
  const dir = tempDir('jitgate-bench-mariadb-');
  const data = join(dir, 'data');
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  await run(installDb, ['--no-defaults', '--auth-root-authentication-method=normal', `--datadir=${data}`, '--skip-test-db', ...user]);
  const password = randomBytes(18).toString('base64url');
  const initFile = join(dir, 'init.sql');
  // Run before the first connection: root has a password from the start, on the socket and on 127.0.0.1.
  writeFileSync(initFile, [
    "create user if not exists 'root'@'127.0.0.1';", "grant all on *.* to 'root'@'127.0.0.1' with grant option;",
    ...['localhost', '127.0.0.1', '::1'].map((host) => `alter user if exists 'root'@'${host}' identified by '${password}';`), '',
  ].join('\n'), { mode: 0o600 });
  const port = await freePort();
  const socket = join(dir, 'mysqld.sock');
  const log = openSync(join(dir, 'mariadbd.log'), 'a');
  const child = spawn(daemon, ['--no-defaults', ...user, `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`,
    '--bind-address=127.0.0.1', '--skip-name-resolve', '--skip-log-bin', '--innodb-buffer-pool-size=256M',
    '--innodb-flush-log-at-trx-commit=0', '--max-connections=500', '--performance-schema=OFF', `--init-file=${initFile}`,
    `--pid-file=${join(dir, 'mariadbd.pid')}`],
  { stdio: ['ignore', log, log] });
  await waitForPort(port, 'mariadbd', child);
  const server = { dir, port, socket, password, pid: child.pid };
  return {
    ...server,
    adminUrl: (database) => `mysql://root:${password}@127.0.0.1:${port}/${database}`,
    async stop() {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** haproxy, `mode tcp`, one backend: the baseline DESIGN §8 names. Undefined when haproxy is not installed. */
export async function startHaproxy(backendPort) {
  const binary = findExecutable('haproxy');
  if (!binary) return undefined;
  const dir = tempDir('jitgate-bench-haproxy-');
  const port = await freePort();
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(config, [
    'global', '  maxconn 2000', 'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 1h', '  timeout server 1h',
    'frontend mysql', `  bind 127.0.0.1:${port}`, '  default_backend mariadb',
    'backend mariadb', `  server db1 127.0.0.1:${backendPort}`, '',
  ].join('\n'));
  const child = spawn(binary, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.resume();
  await waitForPort(port, 'haproxy', child);
  return {
    port, pid: child.pid,
    async stop() {
      await stopChild(child, 'SIGUSR1');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
