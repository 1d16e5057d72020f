// The command tree's contract: exit codes for usage errors, help and failures, and where --url/--api-key come from.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/cli/api-client.js';
import { resolveApiOptions, withApiOptions } from '../../src/cli/context.js';
import { CliError, SilentExit } from '../../src/cli/errors.js';
import { InvalidConfigError } from '../../src/cli/load-config.js';
import { buildProgram, reportError, runCli } from '../../src/cli/program.js';
import { packageVersion } from '../../src/cli/version.js';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'jitgate', ...args], { writeOut: (text) => { out += text; }, writeErr: (text) => { err += text; } });
  return { code, out, err };
}

describe('exit codes', () => {
  it.each([
    [['request'], /required option '--role <role>'/],
    [['request', '--role', 'readonly'], /missing required argument 'resource'/],
    [['request', 'local-pg', '--role', 'readonly', '--ttl', 'soon'], /expected a duration like "30m"/],
    [['grants', '--state', 'gone'], /Allowed choices are pending, approved, active, denied, ended/],
    [['bogus'], /unknown command 'bogus'/],
    [['grants', '--bogus'], /unknown option '--bogus'/],
    [['approve'], /missing required argument 'grant'/],
    [['connect', 'g_x', '--url', '--psql'], /cannot be used with option/],
    [['serve'], /required option '--config <file>'/],
    [['revoke', 'g_1', 'g_2'], /too many arguments/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const { code, err } = await run(...args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('prints help with exit 0 when asked, exit 2 when no command is given', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Exit codes:');
    expect(help.out).toContain('2  usage error');
    expect((await run()).code).toBe(2);
  });

  it('knows the DESIGN §7 command names', () => {
    const names = buildProgram().commands.map((command) => command.name());
    expect(names).toEqual(['serve', 'request', 'grants', 'approve', 'deny', 'revoke', 'resources', 'connect', 'sessions', 'audit', 'config']);
    const nested = buildProgram().commands.flatMap((command) => command.commands.map((sub) => `${command.name()} ${sub.name()}`));
    expect(nested).toEqual(['sessions show', 'sessions export', 'audit verify', 'audit search', 'config check']);
  });

  it('words failures for the user and exits 1', () => {
    const lines: string[] = [];
    const collect = (text: string): void => { lines.push(text); };
    expect(reportError(new ApiError(409, 'conflict', 'grant already ended'), collect)).toBe(1);
    expect(reportError(new InvalidConfigError('invalid config x.yaml:\n  listen.api: bad', 'x.yaml', ['listen.api: bad']), collect)).toBe(1);
    expect(reportError(new CliError('nope'), collect)).toBe(1);
    expect(reportError(new CliError('bad url', 2), collect)).toBe(2);
    expect(reportError(new SilentExit(3), collect)).toBe(3);
    expect(lines).toEqual(['error: grant already ended (409 conflict)\n', 'error: invalid config x.yaml:\n  listen.api: bad\n', 'error: nope\n', 'error: bad url\n']);
  });
});

describe('resolveApiOptions', () => {
  function parse(args: string[]): Command {
    const root = withApiOptions(new Command('jitgate').enablePositionalOptions().exitOverride());
    let leaf: Command | undefined;
    withApiOptions(root.command('grants')).action((_options: unknown, command: Command) => { leaf = command; });
    root.parse(args, { from: 'user' });
    if (leaf === undefined) throw new Error('action did not run');
    return leaf;
  }

  it('prefers the subcommand option, then the global option, then env, then the default', () => {
    const env = { JITGATE_URL: 'http://env:1', JITGATE_API_KEY: 'env-key' };
    expect(resolveApiOptions(parse(['--url', 'http://root:1', 'grants', '--url', 'http://leaf:1']), env)).toEqual({ url: 'http://leaf:1', apiKey: 'env-key' });
    expect(resolveApiOptions(parse(['--url', 'http://root:1', '--api-key', 'root-key', 'grants']), env)).toEqual({ url: 'http://root:1', apiKey: 'root-key' });
    expect(resolveApiOptions(parse(['grants']), env)).toEqual({ url: 'http://env:1', apiKey: 'env-key' });
    expect(resolveApiOptions(parse(['grants']), { JITGATE_URL: '' })).toEqual({ url: 'http://127.0.0.1:7480', apiKey: undefined });
  });
});

describe('--version', () => {
  it('prints the version of the package.json above the module, from src/ as from dist/', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await run('--version')).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect(await run('-V')).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect(packageVersion(new URL('../../dist/src/cli/version.js', import.meta.url).href)).toBe(version);
  });
});
