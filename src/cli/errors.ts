// Failures the CLI reports itself. Exit codes are part of the CLI contract (see the help text in index.ts).

export const EXIT_OK = 0;
/** The operation failed: API error, denied grant, broken audit chain, invalid config. */
export const EXIT_FAILED = 1;
/** The invocation was wrong: unknown command or option, missing argument, bad option value. */
export const EXIT_USAGE = 2;

/** An error whose message is already worded for the user; printed as `error: <message>`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_FAILED) {
    super(message);
    this.name = 'CliError';
  }
}

/** Ends the command with this exit code and no further message: the command already said what happened. */
export class SilentExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'SilentExit';
  }
}
