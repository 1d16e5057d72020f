// `jitgate serve` as a process (issue 19, defects 5 and 8): it exits non-zero, with the reason on stderr, whenever
// it could not start (bad config, port in use, store unopenable) or stop cleanly; and on a fresh data dir under
// umask 022 the data directory is 0700, the store and the audit file 0600.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CLI_KEYS, freePort, runJitgate, serveEnv, startServe, stopServe, waitServing, writeBundledConfig, type ServeEnv,
} from '../support/cli-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitgate-serve-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function freshEnv(name: string): Promise<ServeEnv> {
  return {
    apiPort: await freePort(), pgPort: await freePort(), mysqlPort: await freePort(), dataDir: join(dir, name, 'data'),
    pgAdminUrl: inject('pgAdminUrl'), mysqlAdminUrl: inject('mysqlAdminUrl'),
  };
}

describe('jitgate serve exit codes', () => {
  it('a bad config: exit 1 and the config error on stderr', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'listen: { api: "127.0.0.1:notaport" }\nresources: []\n');
    const result = await runJitgate(['serve', '--config', path]);
    expect(result.stderr).toContain(`invalid config ${path}`);
    expect(result.code).toBe(1);
  });

  it('a config file that does not exist: exit 1, named on stderr', async () => {
    const path = join(dir, 'missing.yaml');
    const result = await runJitgate(['serve', '--config', path]);
    expect(result.stderr).toContain(path);
    expect(result.code).toBe(1);
  });

  it('the API port already in use: exit 1 and the address on stderr', async () => {
    const env = await freshEnv('port-in-use');
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(env.apiPort, '127.0.0.1', resolve));
    try {
      const config = writeBundledConfig(dir);
      const result = await runJitgate(['serve', '--config', config], { env: serveEnv(env) });
      expect(result.stderr).toMatch(new RegExp(`cannot start: .*EADDRINUSE.*127\\.0\\.0\\.1:${env.apiPort}`));
      expect(result.code).toBe(1);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('a store that cannot be opened: exit 1 and the store error on stderr', async () => {
    const env = await freshEnv('bad-store');
    const notADir = join(dir, 'a-file');
    writeFileSync(notADir, '');
    const config = writeBundledConfig(dir);
    const result = await runJitgate(['serve', '--config', config], { env: serveEnv({ ...env, dataDir: join(notADir, 'data') }) });
    expect(result.stderr).toContain('cannot start: cannot open store sqlite:');
    expect(result.code).toBe(1);
  });

  it('a shutdown that fails (audit events that cannot be written before the close timeout): exit 1, reason on stderr', async () => {
    const env = await freshEnv('stuck-audit');
    const configDir = join(dir, 'stuck-audit');
    // /dev/full opens, and every write to it fails with ENOSPC: the grant's events stay queued until close gives up.
    const config = writeBundledConfig(configDir, (yaml) => yaml.replace('file: "${env:JITGATE_DATA_DIR:-./data}/audit.jsonl"', 'file: /dev/full'));
    const server = startServe(config, serveEnv(env));
    const apiUrl = `http://127.0.0.1:${env.apiPort}`;
    await waitServing(server, apiUrl);
    // The request waits for its audit event, which never lands: give up on the answer, the event stays queued.
    await fetch(`${apiUrl}/v1/grants`, {
      method: 'POST', headers: { authorization: `Bearer ${CLI_KEYS.dev}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resource: 'local-pg', role: 'readonly', ttl: '5m', reason: 'shutdown test' }), signal: AbortSignal.timeout(1_000),
    }).catch(() => undefined);
    const exit = await stopServe(server, 30_000);
    expect(server.log()).toContain('jitgate: shutdown failed:');
    expect(exit).toEqual({ code: 1, signal: null });
  }, 45_000);
});

describe('jitgate serve on a fresh data dir', () => {
  it('under umask 022: the data directory is 0700, the store and the audit file 0600', async () => {
    const env = await freshEnv('fresh');
    const config = writeBundledConfig(join(dir, 'fresh'));
    const server = startServe(config, serveEnv(env), { umask: '022' });
    try {
      await waitServing(server, `http://127.0.0.1:${env.apiPort}`);
      const modes = Object.fromEntries(readdirSync(env.dataDir).map((name) => [name, (statSync(join(env.dataDir, name)).mode & 0o777).toString(8)]));
      expect(modes).toMatchObject({ 'jitgate.db': '600', 'audit.jsonl': '600' });
      for (const [name, mode] of Object.entries(modes)) expect([name, mode]).toEqual([name, '600']); // -wal, -shm too
      expect((statSync(env.dataDir).mode & 0o777).toString(8)).toBe('700');
    } finally {
      expect((await stopServe(server)).code).toBe(0);
    }
  });
});
