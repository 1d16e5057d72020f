// What the MySQL benchmark runs against, each in a temp dir removed by stop(): a throwaway MariaDB (mariadb-install-db +
// mariadbd on a free port, tuned to measure the proxy rather than the disk), haproxy in `mode tcp` in front of it when
// installed, and jitgate itself as the compiled CLI in a child process (`node bin/jitgate.js serve`) on a generated
// config — builtin broker, audit on (SQLite store and a JSON-lines file, durability os, parameters full), start sweep
// off — with a grant requested through the HTTP API like any client would.
/* global fetch */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SBIN = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
export const findBinary = (...names) => names.flatMap((name) => SBIN.map((dir) => join(dir, name))).find((path) => existsSync(path));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

async function waitForPort(port, what, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited during startup (${child.exitCode})`);
    const open = await new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}

/** `mariadb -e` as root over the private socket (the password in MYSQL_PWD, never on the command line). */
export const mariadbAdmin = (server, sql) => run('mariadb', ['--no-defaults', '-uroot', `--socket=${server.socket}`, '--batch', '-e', sql],
  { env: { ...process.env, MYSQL_PWD: server.password } });

export async function startMariadb() {
  const installDb = findBinary('mariadb-install-db', 'mysql_install_db');
  const daemon = findBinary('mariadbd', 'mysqld');
  if (!installDb || !daemon) throw new Error('the MySQL benchmark needs mariadb-install-db and mariadbd');
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-mariadb-'));
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
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** haproxy, `mode tcp`, one backend: the baseline DESIGN §8 names. Undefined when haproxy is not installed. */
export async function startHaproxy(backendPort) {
  const binary = findBinary('haproxy');
  if (!binary) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-haproxy-'));
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

/**
 * The floor for any Node relay: a bare byte pipe in this process (no framing, no tap, no audit), for the table to show
 * how much of jitgate's cost is Node's socket path on this machine. A diagnostic, not a product configuration.
 */
export async function startNodePipe(backendPort) {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
    client.pipe(upstream);
    upstream.pipe(client);
    for (const [socket, other] of [[client, upstream], [upstream, client]]) {
      socket.on('error', () => other.destroy());
      socket.on('close', () => other.destroy());
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, pid: process.pid, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

const quote = (text) => JSON.stringify(text);

/** jitgate with one MySQL resource (`adminUrl`) whose `readonly` role runs `roleStatements`. */
export async function startJitgateMysql({ root, adminUrl, roleStatements, nodeArgs = [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-mysql-'));
  const [apiPort, mysqlPort] = [await freePort(), await freePort()];
  const devKey = randomBytes(18).toString('base64url');
  const configPath = join(dir, 'jitgate.yaml');
  writeFileSync(configPath, `
listen: { api: "127.0.0.1:${apiPort}", postgres: "127.0.0.1:0", mysql: "127.0.0.1:${mysqlPort}" }
store: { url: "sqlite:${join(dir, 'jitgate.db')}" }
audit: { file: "${join(dir, 'audit.jsonl')}", durability: os, parameters: full, on_failure: block }
credentials: { sweep_on_start: false }
identities:
  api_keys:
    - { name: admin, key: "${randomBytes(18).toString('base64url')}", groups: [admin, dba, auditor] }
    - { name: dev, key: "${devKey}", groups: [dev] }
resources:
  - name: bench-mysql
    protocol: mysql
    admin_url: ${quote(adminUrl)}
    tls: { mode: disable }
    roles:
      readonly:
        max_ttl: 8h
        creation_statements: [${roleStatements.map(quote).join(', ')}]
policies:
  - { name: bench, resources: [bench-mysql], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 8h }
`);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'jitgate.js'), 'serve', '--config', configPath], {
    cwd: dir, env: { ...process.env, JITGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jitgate did not start within 30 s:\n${stderr}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
      if (stderr.includes('jitgate: API listening')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`jitgate exited (${code}) during startup:\n${stderr}`)); });
  });
  return {
    port: mysqlPort, pid: child.pid, dir,
    async grant(ttl = '2h') {
      const response = await fetch(`http://127.0.0.1:${apiPort}/v1/grants`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${devKey}` },
        body: JSON.stringify({ resource: 'bench-mysql', role: 'readonly', ttl, reason: 'npm run bench' }),
      });
      const body = await response.json();
      if (response.status !== 201) throw new Error(`grant request failed: ${response.status} ${JSON.stringify(body)}`);
      return { id: body.id, token: body.token };
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
