// Config loading for the commands that need it (config check, audit verify --config). The loader (yaml + the zod
// schema) is imported on first use, so the everyday API commands start without paying for it.
import type { Config } from '../config/schema.js';
import { CliError } from './errors.js';

/** An invalid config, reported as `error: invalid config <file>:` followed by one problem per line. */
export class InvalidConfigError extends CliError {
  constructor(message: string, readonly source: string, readonly problems: readonly string[]) {
    super(message);
    this.name = 'InvalidConfigError';
  }
}

export async function loadConfigForCli(path: string): Promise<Config> {
  const { ConfigError, loadConfigFile } = await import('../config/load.js');
  try {
    return await loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new InvalidConfigError(error.message, error.source, error.problems);
    throw error;
  }
}
