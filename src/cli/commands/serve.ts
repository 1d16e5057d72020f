// `jitgate serve --config <file>`: hands over to the composition root, loaded only for this command so that the
// everyday CLI commands never load the server, its database drivers or native modules.
import type { Command } from 'commander';
import { EXIT_OK, SilentExit } from '../errors.js';

export function registerServe(program: Command): void {
  program.command('serve')
    .description('run the gateway: HTTP API and the Postgres/MySQL listeners, until SIGINT or SIGTERM')
    .requiredOption('--config <file>', 'YAML config file (e.g. config/jitgate.yaml)')
    .action(async (options: { readonly config: string }) => {
      const { runServe } = await import('../../main.js');
      // runServe has said why on stderr; the code must reach the process (issue 19: a bad config exited 0).
      const exitCode = await runServe(options.config);
      if (exitCode !== EXIT_OK) throw new SilentExit(exitCode);
    });
}
