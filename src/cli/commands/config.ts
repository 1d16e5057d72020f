// `jitgate config check`: validate a config without starting anything, and show what it would serve.
import type { Command } from 'commander';
import { formatConfigSummary, summarizeConfig } from '../../config/summary.js';
import { print, printJson } from '../context.js';
import { InvalidConfigError, loadConfigForCli } from '../load-config.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration files');
  config.command('check')
    .description('validate a config file (with ${env:…} and ${file:…} resolved) and summarise it; exit 1 if invalid')
    .requiredOption('--config <file>', 'the YAML file to check')
    .option('--json', 'print {ok, source, summary} or {ok, source, problems} as JSON')
    .action(async (options: { readonly config: string; readonly json?: boolean }) => {
      try {
        const summary = summarizeConfig(await loadConfigForCli(options.config));
        if (options.json) printJson({ ok: true, source: options.config, summary });
        else print([`config ${options.config} is valid`, ...formatConfigSummary(summary)].join('\n'));
      } catch (error) {
        // The problems also go to stderr (by the caller's error handler), so scripts see them either way.
        if (error instanceof InvalidConfigError && options.json) printJson({ ok: false, source: error.source, problems: error.problems });
        throw error;
      }
    });
}
