// Entry point of the `jitgate` command (bin/jitgate.js imports the compiled form of this file).
// Exit codes (also in `jitgate --help`): 0 success; 1 the operation failed (API error, grant denied, audit chain
// broken, config invalid); 2 usage error (unknown command or option, missing argument, bad option value).
import { runCli } from './program.js';

// `jitgate grants | head` closes the pipe early; that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// Never lowers a failure code set elsewhere to 0: every failure reaches the exit status.
const exitCode = await runCli(process.argv);
if (exitCode !== 0 || process.exitCode === undefined) process.exitCode = exitCode;
