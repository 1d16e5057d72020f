// What every API command needs: where the server is, which key to present, and how to print.
import type { Command } from 'commander';
import { ApiClient, type ApiUrlSource } from './api-client.js';

export const DEFAULT_URL = 'http://127.0.0.1:7480';

interface ApiOptions {
  readonly url?: string;
  readonly apiKey?: string;
}

/**
 * `--url` / `--api-key` may be given on the subcommand or before it (`jitgate --url … grants`); the one closest to
 * the subcommand wins, then JITGATE_URL / JITGATE_API_KEY, then the default address.
 */
export function resolveApiOptions(command: Command, env: NodeJS.ProcessEnv = process.env): { url: string; apiKey: string | undefined } {
  const { url, apiKey } = resolveApiTarget(command, env);
  return { url, apiKey };
}

/** resolveApiOptions plus where the address came from, for the message when nothing answers there. */
export function resolveApiTarget(command: Command, env: NodeJS.ProcessEnv = process.env): { url: string; apiKey: string | undefined; urlSource: ApiUrlSource } {
  let url: string | undefined;
  let apiKey: string | undefined;
  for (let current: Command | null = command; current !== null; current = current.parent) {
    const options = current.opts<ApiOptions>();
    url ??= typeof options.url === 'string' ? options.url : undefined;
    apiKey ??= typeof options.apiKey === 'string' ? options.apiKey : undefined;
  }
  const fromEnv = nonEmpty(env.JITGATE_URL);
  const [resolved, urlSource]: [string, ApiUrlSource] = url !== undefined ? [url, '--url'] : fromEnv !== undefined ? [fromEnv, 'JITGATE_URL'] : [DEFAULT_URL, 'default'];
  return { url: resolved, apiKey: apiKey ?? nonEmpty(env.JITGATE_API_KEY), urlSource };
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

export function apiClientFor(command: Command): ApiClient {
  const { url, apiKey, urlSource } = resolveApiTarget(command);
  return new ApiClient(url, apiKey, fetch, urlSource);
}

/** Adds the connection options to a subcommand. The key is never given a default, so help output cannot show it. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', `jitgate API address (env JITGATE_URL, default ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key (prefer env JITGATE_API_KEY: arguments are visible to other local users)');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function warn(text: string): void {
  process.stderr.write(`${text}\n`);
}
