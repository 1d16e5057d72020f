// A throwaway PostgreSQL for one test run: initdb into a temp dir, scram-sha-256 everywhere, listening on 127.0.0.1
// only (plus a socket inside the temp dir), superuser `postgres` with a random password.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import {
  freePort, lookupOsUser, removeDirOnExit, runningAsRoot, runToCompletion, sharedTmpdir, startDaemon, waitUntilReady,
  type Daemon, type OsUser,
} from './processes.js';
import type { TestServer } from './test-server.js';

const PG_LIB = '/usr/lib/postgresql';
const START_ATTEMPTS = 3;

const HBA = [
  '# written by test/support: password auth only, on the loopback and the private socket',
  'local all all scram-sha-256',
  'host  all all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n');

// Durability is pointless for a throwaway cluster and costs seconds per suite; connections are generous because
// integration suites run in parallel workers, each with its own pools.
const SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  password_encryption: 'scram-sha-256',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
};

/** The newest /usr/lib/postgresql/<major>/bin holding initdb and postgres (the Debian layout). */
export function findPostgresBinDir(): string | undefined {
  if (!existsSync(PG_LIB)) return undefined;
  return readdirSync(PG_LIB)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(PG_LIB, major, 'bin'))
    .find((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres')));
}

export async function canLogIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {}); // a server going away mid-probe must not become an unhandled error
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** initdb and postgres refuse to run as root: as root we hand the temp dir to the `postgres` OS user. */
function serverUser(): OsUser | undefined {
  if (!runningAsRoot()) return undefined;
  const user = lookupOsUser('postgres');
  if (user === undefined) throw new Error('running as root, but there is no `postgres` OS user to run initdb/postgres as');
  return user;
}

export async function startThrowawayPostgres(binDir: string): Promise<TestServer> {
  const as = serverUser();
  const dir = await mkdtemp(join(sharedTmpdir(), 'jitgate-test-pg-'));
  const forgetDir = removeDirOnExit(dir);
  const removeDir = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    forgetDir();
  };
  try {
    if (as !== undefined) await chown(dir, as.uid, as.gid);
    const dataDir = join(dir, 'data');
    const logPath = join(dir, 'postgres.log');
    const password = randomBytes(18).toString('base64url');

    const passwordFile = join(dir, 'pwfile');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (as !== undefined) await chown(passwordFile, as.uid, as.gid);
    await runToCompletion(join(binDir, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${passwordFile}`, '-A', 'scram-sha-256',
      '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions',
    ], { logPath: join(dir, 'initdb.log'), cwd: dir, as });
    await rm(passwordFile);
    await writeFile(join(dataDir, 'pg_hba.conf'), HBA); // truncating keeps the owner initdb gave it

    const settings = { ...SETTINGS, unix_socket_directories: dir };
    const settingArgs = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
      const daemon: Daemon = startDaemon(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port), ...settingArgs],
        { logPath, cwd: dir, as });
      try {
        await waitUntilReady('postgres', daemon, logPath, () => canLogIn(adminUrl));
      } catch (error) {
        await daemon.stop('SIGKILL');
        // Someone may have taken the port between freePort() and bind(): try another one.
        if (attempt < START_ATTEMPTS && /already in use/i.test(String(error))) continue;
        throw error;
      }
      return {
        adminUrl,
        logPath,
        async stop() {
          await daemon.stop('SIGINT'); // "fast" shutdown: disconnects clients, no waiting for them
          await removeDir();
        },
      };
    }
  } catch (error) {
    await removeDir();
    throw error;
  }
}
