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

/** What a suite that starts its own server may add; the run's shared server takes none of it. */
export interface ThrowawayPostgresOptions {
  /**
   * Extra settings (`-c name=value`) after the defaults, so they may override them; a function receives the server's
   * private directory (writable by the server's OS user), e.g. for `log_directory`.
   */
  readonly settings?: Readonly<Record<string, string>> | ((dir: string) => Readonly<Record<string, string>>);
  /** PEM certificate and key: written into the server's directory (owner only, as the server insists) and ssl=on. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** A throwaway server, plus the directory it lives in (data, logs, certificates). */
export interface ThrowawayPostgres extends TestServer {
  readonly dir: string;
}

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

/** Writes a file the server's OS user owns with `mode`. */
async function writeServerFile(path: string, text: string, mode: number, as: OsUser | undefined): Promise<void> {
  await writeFile(path, text, { mode });
  if (as !== undefined) await chown(path, as.uid, as.gid);
}

export async function startThrowawayPostgres(binDir: string, options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
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
    await writeServerFile(passwordFile, `${password}\n`, 0o600, as);
    await runToCompletion(join(binDir, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', `--pwfile=${passwordFile}`, '-A', 'scram-sha-256',
      '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions',
    ], { logPath: join(dir, 'initdb.log'), cwd: dir, as });
    await rm(passwordFile);
    await writeFile(join(dataDir, 'pg_hba.conf'), HBA); // truncating keeps the owner initdb gave it

    const tlsSettings: Record<string, string> = {};
    if (options.tls !== undefined) {
      await writeServerFile(join(dir, 'server.crt'), options.tls.cert, 0o600, as);
      await writeServerFile(join(dir, 'server.key'), options.tls.key, 0o600, as);
      Object.assign(tlsSettings, { ssl: 'on', ssl_cert_file: join(dir, 'server.crt'), ssl_key_file: join(dir, 'server.key') });
    }
    const extra = typeof options.settings === 'function' ? options.settings(dir) : options.settings ?? {};
    const settings = { ...SETTINGS, unix_socket_directories: dir, ...tlsSettings, ...extra };
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
        dir,
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
