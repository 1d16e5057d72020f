// The `jitgate` command tree and how failures become exit codes. Built fresh per run so tests can drive it.
import { Command, CommanderError } from 'commander';
import { ApiError } from './api-client.js';
import { registerAudit } from './commands/audit.js';
import { registerConfig } from './commands/config.js';
import { registerConnect } from './commands/connect.js';
import { registerGrants } from './commands/grants.js';
import { registerRequest } from './commands/request.js';
import { registerServe } from './commands/serve.js';
import { registerSessions } from './commands/sessions.js';
import { withApiOptions } from './context.js';
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, SilentExit } from './errors.js';
import { packageVersion } from './version.js';

export const HELP_FOOTER = `
Environment:
  JITGATE_URL      jitgate API address (default http://127.0.0.1:7480)
  JITGATE_API_KEY  API key sent as the bearer token

Exit codes:
  0  success
  1  the operation failed: API error, grant denied, audit chain broken, config invalid
  2  usage error: unknown command or option, missing argument, bad option value

Example:
  jitgate request orders-pg --role readonly --ttl 30m --reason "INC-4411"
  psql "$(jitgate connect <grant> --url)"`;

export interface CliOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

const PROCESS_OUTPUT: CliOutput = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
};

export function buildProgram(output: CliOutput = PROCESS_OUTPUT): Command {
  const program = new Command('jitgate')
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr })
    .description('just-in-time database access: request, approve and audit time-limited grants')
    .version(packageVersion(), '-V, --version', 'print the jitgate version')
    // Global options go before the subcommand (`jitgate --url … grants`); API commands also take them after it.
    // Positional parsing keeps `connect --url` (print the URL) apart from the global `--url <address>`.
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', HELP_FOOTER);
  withApiOptions(program);

  registerServe(program);
  registerRequest(program);
  registerGrants(program);
  registerConnect(program);
  registerSessions(program);
  registerAudit(program);
  registerConfig(program);
  return program;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Prints what went wrong (never an API key: none of these messages carries one) and picks the exit code. */
export function reportError(error: unknown, stderr: (text: string) => void = PROCESS_OUTPUT.writeErr): number {
  // Commander has already printed its own message (or the help text).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (error instanceof SilentExit) return error.exitCode;
  if (error instanceof ApiError) {
    stderr(`error: ${error.message} (${error.status} ${error.code})\n`);
    return EXIT_FAILED;
  }
  if (error instanceof CliError) {
    stderr(`error: ${error.message}\n`);
    return error.exitCode;
  }
  stderr(`error: ${errorText(error)}\n`);
  if (process.env.JITGATE_DEBUG && error instanceof Error && error.stack) stderr(`${error.stack}\n`);
  return EXIT_FAILED;
}

/** Runs one invocation (`argv` as in process.argv) and resolves with its exit code. */
export async function runCli(argv: readonly string[], output: CliOutput = PROCESS_OUTPUT): Promise<number> {
  try {
    await buildProgram(output).parseAsync([...argv]);
    return EXIT_OK;
  } catch (error) {
    return reportError(error, output.writeErr);
  }
}
