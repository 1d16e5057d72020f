// `jitgate connect <grant>`: use the token kept at request time, print the URL or start psql / mariadb with it.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
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

interface ClientCommand {
  readonly programs: readonly string[];
  readonly args: readonly string[];
}

/** psql takes the URL as is. */
export function psqlCommand(connection: Connection): ClientCommand {
  return { programs: ['psql'], args: [connection.url] };
}

/**
 * The mariadb CLI (or mysql, where only that is installed). `--protocol=TCP`, because both clients treat the host
 * "localhost" as "use the unix socket" and would bypass jitgate entirely.
 */
export function mysqlCommand(connection: Connection): ClientCommand {
  const args = ['--protocol=TCP', '-h', connection.host, '-P', String(connection.port), '-u', connection.user, `--password=${connection.password}`];
  return { programs: ['mariadb', 'mysql'], args: connection.database === '' ? args : [...args, connection.database] };
}

function chooseClient(connection: Connection, options: ConnectOptions): ClientCommand {
  const wanted = options.psql ? 'postgres' : options.mysql ? 'mysql' : connection.protocol;
  if (wanted !== connection.protocol) {
    throw new CliError(`this grant is for a ${connection.protocol} resource; use --${connection.protocol === 'postgres' ? 'psql' : 'mysql'} or --url`, EXIT_USAGE);
  }
  return wanted === 'postgres' ? psqlCommand(connection) : mysqlCommand(connection);
}

/** Runs the client on this terminal and resolves with the exit code to hand on (128 + n after signal n, as shells do). */
function runClient(client: ClientCommand, tried: readonly string[] = []): Promise<number> {
  const [program, ...fallbacks] = client.programs;
  if (program === undefined) return Promise.reject(new CliError('no client program to run'));
  const names = [...tried, program];
  return new Promise((resolve, reject) => {
    const child = spawn(program, client.args, { stdio: 'inherit' });
    // Ctrl-C belongs to the client (psql cancels the running query); this process must outlive it.
    const ignore = (): void => {};
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    const done = (): void => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
    };
    child.on('error', (error) => {
      done();
      if ('code' in error && error.code === 'ENOENT') {
        if (fallbacks.length > 0) resolve(runClient({ programs: fallbacks, args: client.args }, names));
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
      const exitCode = await runClient(chooseClient(entry.connection, options));
      if (exitCode !== 0) throw new SilentExit(exitCode);
    });
}
