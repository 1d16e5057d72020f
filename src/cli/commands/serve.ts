// `jitgate serve --config <file>`: hands over to the composition root, loaded only for this command so that the
// everyday CLI commands never load the server, its database drivers or native modules.
import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program.command('serve')
    .description('run the gateway: HTTP API and the Postgres/MySQL listeners, until SIGINT or SIGTERM')
    .requiredOption('--config <file>', 'YAML config file (e.g. config/jitgate.yaml)')
    .action(async (options: { readonly config: string }) => {
      const { runServe } = await import('../../main.js');
      await runServe(options.config);
    });
}
