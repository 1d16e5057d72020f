// The `jitgate` CLI end to end, as users run it: child processes of bin/jitgate.js against `jitgate serve` started
// from a copy of the bundled config (temp data dir, free ports, known keys, the run's test databases).
// Acceptance: request --json → approve → grants → revoke, with the documented exit codes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, CLI_KEYS as KEYS, ROOT, freePort, runJitgate, sleep, type RunResult } from '../support/cli-process.js';

/** Runs `node bin/jitgate.js …args`; env adds to (or, with undefined, removes from) ours. */
const jitgate = (args: readonly string[], env: Record<string, string | undefined> = {}): Promise<RunResult> => runJitgate(args, { env });

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
});

describe('jitgate --version', () => {
  it('--version and -V print the package version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await jitgate([flag]);
      expect([result.code, result.stdout, result.stderr]).toEqual([0, `${version}\n`, '']);
    }
  });
});

describe('jitgate config check', () => {
  it('accepts the bundled config and summarises it', async () => {
    const result = await jitgate(['config', 'check', '--config', 'config/jitgate.yaml']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('config config/jitgate.yaml is valid');
    expect(result.stdout).toContain('local-pg: postgres');
    expect(result.stdout).toContain('local-mysql: mysql');
  });

  it('refuses a broken config with exit 1 and the problem path on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-cli-config-'));
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'resources:\n  - { name: db, protocol: postgres, host: h, port: 99999, database: d, admin: { user: u }, roles: { ro: { max_ttl: soon } } }\n');
    const result = await jitgate(['config', 'check', '--config', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: invalid config ${path}:`);
    expect(result.stderr).toContain('  resources[0].port: expected a port number 1..65535');
    expect(result.stderr).toContain('  resources[0].roles.ro.max_ttl: expected duration like "30m"');
    const json = await jitgate(['config', 'check', '--config', path, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: expect.arrayContaining(['resources[0].port: expected a port number 1..65535']) as unknown });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('jitgate CLI against a running server', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let serverLog = '';
  let apiUrl: string;
  let pgPort: number;

  const as = (who: keyof typeof KEYS | { key: string }, args: readonly string[]): Promise<RunResult> =>
    jitgate(args, { JITGATE_URL: apiUrl, JITGATE_API_KEY: typeof who === 'string' ? KEYS[who] : who.key, XDG_CONFIG_HOME: join(dir, 'xdg') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jitgate-cli-'));
    const configPath = join(dir, 'jitgate.yaml');
    // The bundled config as shipped, except the start sweep: the run's servers carry other suites' jg_ users.
    writeFileSync(configPath, `${readFileSync(join(ROOT, 'config', 'jitgate.yaml'), 'utf8')}\ncredentials: { sweep_on_start: false }\n`);
    const [apiPort, pg, mysqlPort] = [await freePort(), await freePort(), await freePort()];
    pgPort = pg;
    apiUrl = `http://127.0.0.1:${apiPort}`;
    server = spawn(process.execPath, [BIN, 'serve', '--config', configPath], {
      cwd: dir,
      env: {
        ...process.env,
        JITGATE_API_ADDR: `127.0.0.1:${apiPort}`,
        JITGATE_PG_ADDR: `127.0.0.1:${pgPort}`,
        JITGATE_MYSQL_ADDR: `127.0.0.1:${mysqlPort}`,
        JITGATE_DATA_DIR: join(dir, 'data'),
        JITGATE_PG_ADMIN_URL: inject('pgAdminUrl'),
        JITGATE_MYSQL_ADMIN_URL: inject('mysqlAdminUrl'),
        JITGATE_ADMIN_KEY: KEYS.admin,
        JITGATE_DEV_KEY: KEYS.dev,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => { serverLog += chunk.toString(); });
    server.stderr?.on('data', (chunk: Buffer) => { serverLog += chunk.toString(); });

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`jitgate serve exited with ${server.exitCode}:\n${serverLog}`);
      const healthy = await fetch(`${apiUrl}/healthz`).then((response) => response.status === 200, () => false);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`jitgate serve not healthy after 30s:\n${serverLog}`);
      await sleep(100);
    }
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise<void>((resolve) => server?.once('exit', () => resolve()));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let grantId = '';
  let grantUrl = '';

  it('request --json prints the grant, its token and a connection for the Postgres listener', async () => {
    const result = await as('dev', ['request', 'local-pg', '--role', 'readwrite', '--ttl', '30m', '--reason', 'INC-1', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['connection', 'expiresAt', 'id', 'state', 'token']);
    const connection = body.connection as Record<string, unknown>;
    expect(Object.keys(connection).sort()).toEqual(['database', 'host', 'password', 'port', 'protocol', 'url', 'user']);
    expect(body.id).toMatch(/^g_[a-z2-7]{20}$/);
    expect(body.state).toBe('pending');
    expect(body.token).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{43}$/));
    expect(connection).toMatchObject({ protocol: 'postgres', host: '127.0.0.1', port: pgPort, user: body.id, password: body.token });
    expect(Number.isNaN(Date.parse(String(body.expiresAt)))).toBe(false);
    grantId = String(body.id);
    grantUrl = String(connection.url);
  });

  it('request says when the policy cut the ttl short, on stderr (the --json fields stay as they are)', async () => {
    const result = await as('dev', ['request', 'local-pg', '--role', 'readonly', '--ttl', '9h', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('ttl 9h clamped to 8h by policy dev-readonly\n');
    expect(Object.keys(JSON.parse(result.stdout) as object).sort()).toEqual(['connection', 'expiresAt', 'id', 'state', 'token']);
    const table = await as('dev', ['request', 'local-pg', '--role', 'readonly', '--ttl', '9h']);
    expect(table.stderr).toBe('ttl 9h clamped to 8h by policy dev-readonly\n');
    expect(table.stdout).toMatch(/^\s+ttl\s+8h$/m);
  });

  it('keeps the token in a private cache that connect --url reads', async () => {
    const cachePath = join(dir, 'xdg', 'jitgate', 'grants.json');
    expect(statSync(cachePath).mode & 0o777).toBe(0o600);
    const result = await as('dev', ['connect', grantId, '--url']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${grantUrl}\n`);
  });

  it('grants lists the request as pending for its requester', async () => {
    const result = await as('dev', ['grants']);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['ID', 'RESOURCE', 'ROLE', 'REQUESTER', 'STATE', 'EXPIRES', 'REASON']);
    const row = rows.find((line) => line.startsWith(grantId));
    expect(row).toBeDefined();
    expect(row?.split(/\s{2,}/)).toEqual([grantId, 'local-pg', 'readwrite', 'dev', 'pending (0/1 approvals)', expect.stringMatching(/^in \d+m$/), 'INC-1']);
  });

  it('an approver approves it', async () => {
    const result = await as('admin', ['approve', grantId, '--comment', 'ok for INC-1']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${grantId}: approved\n`);
  });

  it('grants --json shows it approved, expiring within its 30m ttl', async () => {
    const result = await as('dev', ['grants', '--json']);
    expect(result.code).toBe(0);
    const grants = JSON.parse(result.stdout) as { id: string; state: string; ttlSeconds: number; expiresAt: string }[];
    const grant = grants.find((candidate) => candidate.id === grantId);
    expect(grant).toMatchObject({ state: 'approved', ttlSeconds: 1_800 });
    expect(Date.parse(grant?.expiresAt ?? '') - Date.now()).toBeLessThanOrEqual(1_800_000);
  });

  it('revoke ends it and drops its cached token', async () => {
    const result = await as('admin', ['revoke', grantId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${grantId}: ended (revoked)\n`);
    const connect = await as('dev', ['connect', grantId, '--url']);
    expect(connect.code).toBe(1);
    expect(connect.stderr).toContain('the token is shown once, at request time; request a new grant');
  });

  it('revoking again fails with exit 1 and the 409 from the server', async () => {
    const result = await as('admin', ['revoke', grantId]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: .+ \(409 conflict\)\n$/);
  });

  it('a usage error exits 2 without calling the server', async () => {
    const result = await as('dev', ['request', '--role', 'readonly']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'resource'");
  });

  it('a bad API key exits 1 with the 401, and the key is never printed', async () => {
    const badKey = 'not-a-real-key-0123456789';
    const result = await as({ key: badKey }, ['grants']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(401 unauthorized\)/);
    expect(result.stdout + result.stderr).not.toContain(badKey);
  });

  it('resources lists the bundled resources with their roles', async () => {
    const result = await as('dev', ['resources']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^local-pg\s+postgres\s+\S+\s+readonly \(8h\), readwrite \(1h\)$/m);
    expect(result.stdout).toMatch(/^local-mysql\s+mysql\s+test\s+readonly \(8h\), readwrite \(1h\)$/m);
  });

  it('audit verify finds the chain intact, through the API and offline from the store', async () => {
    const online = await as('admin', ['audit', 'verify']);
    expect(online.stderr).toBe('');
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/^audit chain OK: \d+ events, head [0-9a-f]{64}\n$/);
    const offline = await jitgate(['audit', 'verify', '--config', join(dir, 'jitgate.yaml'), '--json'], { JITGATE_DATA_DIR: join(dir, 'data') });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true });
  });

  it('a server that is not there is reported plainly', async () => {
    const port = await freePort();
    const result = await jitgate(['grants'], { JITGATE_URL: `http://127.0.0.1:${port}`, JITGATE_API_KEY: KEYS.dev });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: cannot reach jitgate at http://127.0.0.1:${port} (from JITGATE_URL): connection refused; is jitgate running there? JITGATE_URL must name its API address (JITGATE_API_ADDR / listen.api)\n`);
  });
});
