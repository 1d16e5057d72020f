// `jitgate connect <grant>`: use the token kept at request time, print the URL or start psql / mariadb with it —
// never with the token on the client's command line.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { Connection } from '../api-schemas.js';
import { print } from '../context.js';
import { CliError, EXIT_USAGE, SilentExit } from '../errors.js';
import { TokenCache } from '../token-cache.js';

interface ConnectOptions {
  readonly url?: boolean;
  readonly psql?: boolean;
  readonly mysql?: boolean;
}

/**
 * A client to run. The token never goes in `args`: argv is visible to every local user (`ps`, /proc/<pid>/cmdline).
 * It travels in `env` (psql's PGPASSWORD) or in an option file the client is pointed at (mariadb/mysql).
 */
export interface ClientCommand {
  readonly programs: readonly string[];
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** The grant's URL without its password. */
function urlWithoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** psql: the URL without the password, which comes from PGPASSWORD (libpq reads it before ~/.pgpass). */
export function psqlCommand(connection: Connection): ClientCommand {
  return { programs: ['psql'], args: [urlWithoutPassword(connection.url)], env: { PGPASSWORD: connection.password } };
}

/**
 * The mariadb CLI (or mysql, where only that is installed). `--defaults-extra-file` must come first (both clients
 * ignore it elsewhere); MYSQL_PWD is deprecated in MySQL 8 clients. `--protocol=TCP`, because both clients treat the
 * host "localhost" as "use the unix socket" and would bypass jitgate entirely.
 */
export function mysqlCommand(connection: Connection, optionFile: string): ClientCommand {
  const args = [`--defaults-extra-file=${optionFile}`, '--protocol=TCP', '-h', connection.host, '-P', String(connection.port), '-u', connection.user];
  return { programs: ['mariadb', 'mysql'], args: connection.database === '' ? args : [...args, connection.database], env: {} };
}

/** The option file's text: a [client] group with the password, quoted (option files treat `#` as a comment). */
export function mysqlOptionFile(password: string): string {
  if (!/^[\x21-\x7e]+$/.test(password) || /["\\]/.test(password)) {
    throw new CliError('the grant token has characters a client option file cannot carry; use `jitgate connect <grant> --url`');
  }
  return `[client]\npassword="${password}"\n`;
}

function wantedProtocol(connection: Connection, options: ConnectOptions): Connection['protocol'] {
  const wanted = options.psql ? 'postgres' : options.mysql ? 'mysql' : connection.protocol;
  if (wanted !== connection.protocol) {
    throw new CliError(`this grant is for a ${connection.protocol} resource; use --${connection.protocol === 'postgres' ? 'psql' : 'mysql'} or --url`, EXIT_USAGE);
  }
  return wanted;
}

/** Runs the client; for mariadb/mysql, with the password in a 0600 file in a 0700 directory, removed however it ends. */
async function connectWith(connection: Connection, protocol: Connection['protocol']): Promise<number> {
  if (protocol === 'postgres') return runClient(psqlCommand(connection));
  const content = mysqlOptionFile(connection.password);
  const directory = await mkdtemp(join(tmpdir(), 'jitgate-connect-')); // created 0700
  try {
    const optionFile = join(directory, 'client.cnf');
    await writeFile(optionFile, content, { mode: 0o600, flag: 'wx' });
    return await runClient(mysqlCommand(connection, optionFile));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Signals this process passes on to the client, so that the client ends and the cleanup above still runs. */
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGHUP'] as const;

/** Runs the client on this terminal and resolves with the exit code to hand on (128 + n after signal n, as shells do). */
function runClient(client: ClientCommand, tried: readonly string[] = []): Promise<number> {
  const [program, ...fallbacks] = client.programs;
  if (program === undefined) return Promise.reject(new CliError('no client program to run'));
  const names = [...tried, program];
  return new Promise((resolve, reject) => {
    const child = spawn(program, client.args, { stdio: 'inherit', env: { ...process.env, ...client.env } });
    // Ctrl-C belongs to the client (psql cancels the running query); this process must outlive it.
    const ignore = (): void => {};
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const done = (): void => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.on('error', (error) => {
      done();
      if ('code' in error && error.code === 'ENOENT') {
        if (fallbacks.length > 0) resolve(runClient({ ...client, programs: fallbacks }, names));
        else reject(new CliError(`${names.join(' or ')} not found on PATH; install it, or use \`jitgate connect <grant> --url\``));
      } else {
        reject(new CliError(`cannot start ${program}: ${error.message}`));
      }
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0)));
    });
  });
}

export function registerConnect(program: Command): void {
  program.command('connect')
    .description('connect with a grant requested from this machine (the token was kept at request time)')
    .argument('<grant>', 'grant id (g_…)')
    .addOption(new Option('--url', 'print the connection URL (e.g. psql "$(jitgate connect <grant> --url)")').conflicts(['psql', 'mysql']))
    .addOption(new Option('--psql', 'start psql').conflicts('mysql'))
    .addOption(new Option('--mysql', 'start the mariadb (or mysql) client'))
    .action(async (id: string, options: ConnectOptions) => {
      const cache = new TokenCache();
      const entry = await cache.get(id);
      if (entry === undefined) {
        throw new CliError(`no token for ${id} in ${cache.path}: the token is shown once, at request time; request a new grant`);
      }
      if (options.url) {
        print(entry.connection.url);
        return;
      }
      const exitCode = await connectWith(entry.connection, wantedProtocol(entry.connection, options));
      if (exitCode !== 0) throw new SilentExit(exitCode);
    });
}
