// `jitgate connect --psql` / `--mysql` (issue 19, defect 7): the grant token never reaches a command line, where `ps`
// shows it to every local user. psql gets it in PGPASSWORD with a URL that has no password; the mariadb/mysql client
// from a 0600 option file (--defaults-extra-file, first argument) in a private directory, removed afterwards — also
// when the client fails, dies of a signal, or jitgate connect itself is told to stop. Fake clients on PATH record
// what they got; the real psql and mariadb then log in through jitgate the same way.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BIN, CLI_KEYS, freePort, runJitgate, serveEnv, sleep, startServe, stopServe, waitServing, writeBundledConfig, type RunResult, type ServeProcess,
} from '../support/cli-process.js';

const FAKE_CLIENT = fileURLToPath(new URL('../support/fake-db-client.mjs', import.meta.url));

interface ClientRecord {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env: { readonly PGPASSWORD: string | null; readonly MYSQL_PWD: string | null };
  readonly optionFile?: { readonly path: string; readonly mode: string; readonly dirMode: string; readonly content: string };
}

let dir: string;
let server: ServeProcess;
let apiUrl: string;
let fakeBin: string;
const recordPath = (): string => join(dir, 'client-record.json');
const readRecord = (): ClientRecord => JSON.parse(readFileSync(recordPath(), 'utf8')) as ClientRecord;

const cliEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  JITGATE_URL: apiUrl, JITGATE_API_KEY: CLI_KEYS.dev, XDG_CONFIG_HOME: join(dir, 'xdg'), ...extra,
});
const withFakes = (behaviour = ''): Record<string, string> =>
  cliEnv({ PATH: `${fakeBin}:${process.env.PATH ?? ''}`, FAKE_CLIENT_RECORD: recordPath(), FAKE_CLIENT_BEHAVIOUR: behaviour });

async function requestGrant(resource: string): Promise<{ id: string; token: string }> {
  const result = await runJitgate(['request', resource, '--role', 'readonly', '--ttl', '10m', '--json'], { env: cliEnv() });
  if (result.code !== 0) throw new Error(`request failed: ${result.stderr}`);
  const body = JSON.parse(result.stdout) as { id: string; token: string };
  return { id: body.id, token: body.token };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jitgate-connect-test-'));
  fakeBin = join(dir, 'bin');
  mkdirSync(fakeBin);
  for (const name of ['psql', 'mariadb']) {
    const path = join(fakeBin, name);
    writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_CLIENT}" ${name} "$@"\n`);
    chmodSync(path, 0o755);
  }
  const env = {
    apiPort: await freePort(), pgPort: await freePort(), mysqlPort: await freePort(), dataDir: join(dir, 'data'),
    pgAdminUrl: inject('pgAdminUrl'), mysqlAdminUrl: inject('mysqlAdminUrl'),
  };
  apiUrl = `http://127.0.0.1:${env.apiPort}`;
  server = startServe(writeBundledConfig(dir), serveEnv(env));
  await waitServing(server, apiUrl);
});

afterAll(async () => {
  if (server) await stopServe(server);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('connect --psql with a fake psql', () => {
  it('the token is in PGPASSWORD, not in argv; the URL carries no password', async () => {
    const grant = await requestGrant('local-pg');
    const result = await runJitgate(['connect', grant.id, '--psql'], { env: withFakes() });
    expect(result.code).toBe(0);
    const record = readRecord();
    expect(record.name).toBe('psql');
    expect(record.argv.join(' ')).not.toContain(grant.token);
    expect(record.argv).toEqual([expect.stringMatching(new RegExp(`^postgres://${grant.id}@127\\.0\\.0\\.1:\\d+/`)) as unknown]);
    expect(record.env.PGPASSWORD).toBe(grant.token);
  });
});

describe('connect --mysql with a fake mariadb', () => {
  let grant: { id: string; token: string };
  beforeAll(async () => {
    grant = await requestGrant('local-mysql');
  });

  const expectPrivateOptionFile = (record: ClientRecord): string => {
    expect(record.argv.join(' ')).not.toContain(grant.token);
    expect(record.env.MYSQL_PWD).toBeNull();
    expect(record.argv[0]).toMatch(/^--defaults-extra-file=\//);
    expect(record.argv.slice(1)).toEqual(['--protocol=TCP', '-h', '127.0.0.1', '-P', expect.stringMatching(/^\d+$/) as unknown, '-u', grant.id, 'test']);
    expect(record.optionFile).toMatchObject({ mode: '600', dirMode: '700', content: `[client]\npassword="${grant.token}"\n` });
    return record.optionFile?.path ?? '';
  };

  it('the token is in a 0600 option file named first, removed once the client exits', async () => {
    const result = await runJitgate(['connect', grant.id, '--mysql'], { env: withFakes() });
    expect(result.code).toBe(0);
    const optionFile = expectPrivateOptionFile(readRecord());
    expect(existsSync(optionFile)).toBe(false);
    expect(existsSync(join(optionFile, '..'))).toBe(false);
  });

  it('removed when the client fails (its exit code handed on)', async () => {
    const result = await runJitgate(['connect', grant.id, '--mysql'], { env: withFakes('fail') });
    expect(result.code).toBe(3);
    expect(existsSync(expectPrivateOptionFile(readRecord()))).toBe(false);
  });

  it('removed when the client is killed (exit 128 + 9)', async () => {
    const result = await runJitgate(['connect', grant.id, '--mysql'], { env: withFakes('kill') });
    expect(result.code).toBe(137);
    expect(existsSync(expectPrivateOptionFile(readRecord()))).toBe(false);
  });

  it('removed when jitgate connect gets SIGTERM while the client runs (the signal is passed on)', async () => {
    rmSync(recordPath(), { force: true });
    const child = spawn(process.execPath, [BIN, 'connect', grant.id, '--mysql'], { env: { ...process.env, ...withFakes('hang') }, stdio: 'ignore' });
    const exited = new Promise<RunResult>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout: '', stderr: '' })));
    for (let waited = 0; !existsSync(recordPath()) && waited < 10_000; waited += 50) await sleep(50);
    const optionFile = expectPrivateOptionFile(readRecord());
    expect(existsSync(optionFile)).toBe(true);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(143);
    expect(existsSync(optionFile)).toBe(false);
  });
});

describe('connect with the real clients through jitgate', () => {
  it('psql runs the statements it reads, logged in as the grant', async () => {
    const grant = await requestGrant('local-pg');
    const result = await runJitgate(['connect', grant.id, '--psql'], { env: cliEnv(), input: "\\pset tuples_only on\nselect 'through ' || 'jitgate';\n" });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('through jitgate');
  });

  it('mariadb runs the statements it reads, logged in as the grant', async () => {
    const grant = await requestGrant('local-mysql');
    const result = await runJitgate(['connect', grant.id, '--mysql'], { env: cliEnv(), input: "select concat('through ', 'jitgate') as greeting;\n" });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('through jitgate');
  });
});
