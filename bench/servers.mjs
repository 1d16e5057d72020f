// Throwaway servers for `npm run bench`: a PostgreSQL cluster (initdb + postgres, scram-sha-256, on a free port) and,
// when installed, a pgbouncer in front of it (session pooling, SCRAM). As root, both run as the `postgres` OS user,
// which initdb, postgres and pgbouncer insist on. Everything lives in one temp dir, removed by stop().
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, freePort, runToEnd, spawnLogged, stopChild, tempDir, waitForPort } from './spawn.mjs';

const PG_LIB = '/usr/lib/postgresql';
/** Room for the idle-session measurement (2000 clients through jitgate or pgbouncer) plus the usual few. */
export const MAX_CONNECTIONS = 2200;

export function findPostgresBin() {
  if (!existsSync(PG_LIB)) return undefined;
  return readdirSync(PG_LIB).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))
    .map((major) => join(PG_LIB, major, 'bin')).find((bin) => existsSync(join(bin, 'initdb')));
}

function osUser(name) {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** As root: the `postgres` OS user the servers run as; otherwise undefined (run as ourselves). */
const runAs = () => (process.getuid?.() === 0 ? osUser('postgres') : undefined);

/** A cluster tuned for a benchmark that measures the proxy, not the disk. */
export async function startPostgres() {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/<major>/bin');
  const as = runAs();
  const dir = tempDir('jitgate-bench-pg-', '/tmp');
  if (as) chownSync(dir, as.uid, as.gid);
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (as) chownSync(pwfile, as.uid, as.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  await runToEnd(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8',
    '--no-locale', '--no-sync'], join(dir, 'initdb.log'), as);
  writeFileSync(join(data, 'pg_hba.conf'), 'local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n');
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1', unix_socket_directories: dir, max_connections: String(MAX_CONNECTIONS), password_encryption: 'scram-sha-256',
    fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', shared_buffers: '256MB',
  };
  const child = spawnLogged(join(bin, 'postgres'), ['-D', data, '-p', String(port),
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])], log, as);
  await waitForPort(port, 'postgres', child);
  // Accepting TCP is not accepting logins yet: wait for the startup to finish.
  for (let i = 0; i < 100 && !readFileSync(log, 'utf8').includes('ready to accept connections'); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    bin, dir, port, password, pid: child.pid, adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await stopChild(child, 'SIGINT', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** pgbouncer in session mode in front of `pgPort`, authenticating `users` ({ name: password }) with SCRAM. */
export async function startPgbouncer(pgPort, database, users) {
  const binary = findExecutable('pgbouncer');
  if (binary === undefined) return undefined;
  const as = runAs();
  const dir = tempDir('jitgate-bench-pgbouncer-', '/tmp');
  const port = await freePort();
  const userlist = Object.entries(users).map(([name, password]) => `"${name}" "${password}"`).join('\n');
  writeFileSync(join(dir, 'userlist.txt'), `${userlist}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `${database} = host=127.0.0.1 port=${pgPort} dbname=${database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1', `listen_port = ${port}`, 'unix_socket_dir =',
    'auth_type = scram-sha-256', `auth_file = ${join(dir, 'userlist.txt')}`,
    // Session mode holds one server connection per client: the pool must fit the idle-session measurement.
    'pool_mode = session', `max_client_conn = ${MAX_CONNECTIONS}`, `default_pool_size = ${MAX_CONNECTIONS - 100}`,
    `logfile = ${join(dir, 'pgbouncer.log')}`, `pidfile = ${join(dir, 'pgbouncer.pid')}`, '',
  ].join('\n'));
  if (as) for (const name of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, name), as.uid, as.gid);
  const child = spawnLogged(binary, [join(dir, 'pgbouncer.ini')], join(dir, 'stdout.log'), as);
  await waitForPort(port, 'pgbouncer', child);
  const version = readFileSync(join(dir, 'pgbouncer.log'), 'utf8').match(/PgBouncer (\d[\w.]*)/)?.[1] ?? 'unknown';
  return {
    port, version, pid: child.pid,
    async stop() {
      await stopChild(child, 'SIGTERM', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
