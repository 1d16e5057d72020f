// Liveness and readiness while Vault misbehaves (issue 19, defect 4; acceptance 4): jitgate with a vault-broker
// resource reaches the Vault double through a forwarder in its own process. SIGSTOP on that process is a Vault that
// accepts connections and never answers; killing it leaves a closed port. /livez and /healthz must answer within 1 s
// either way, /readyz at once with which dependency is not ready and why.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startJitgate, type JitgateHandle } from '../../src/main.js';
import { TEST_KEYS } from '../support/test-config.js';
import { startVaultWorld, VAULT_ROLES_YAML, type VaultWorld } from '../support/vault-double/broker-world.js';
import { eventually } from '../support/vault-double/targets.js';

const FORWARDER = fileURLToPath(new URL('../support/tcp-forwarder-child.mjs', import.meta.url));

/** Starts the forwarder in front of `targetPort` and resolves with the process and the port it listens on. */
function startForwarder(targetPort: number): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FORWARDER, String(targetPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve({ child, port: Number(match[1]) });
    });
  });
}

interface Timed {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

/** GET with a hard 1 s limit: an answer that takes longer is a failure, not a slow pass. */
async function within1s(url: string, init: RequestInit = {}): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(1_000) });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - started };
}

describe('/livez, /readyz and /healthz with a Vault that hangs or refuses', () => {
  let world: VaultWorld;
  let forwarder: { child: ChildProcess; port: number };
  let handle: JitgateHandle;
  const url = (path: string): string => `${handle.apiUrl}${path}`;
  const readyzVault = async (): Promise<string | undefined> => {
    const { body } = await within1s(url('/readyz'));
    return ((body.checks as Record<string, { status: string }> | undefined)?.vault)?.status;
  };

  /** A jitgate (own SQLite store) whose vault broker goes through the forwarder. */
  const startWithVault = (): Promise<JitgateHandle> => {
    const broker = world.brokerConfig('broker', `http://127.0.0.1:${forwarder.port}`);
    const approle = 'approle' in broker.auth ? broker.auth.approle : { role_id: '', secret_id: '' };
    const dataDir = mkdtempSync(join(tmpdir(), 'jitgate-health-'));
    const yaml = `
listen: { api: "127.0.0.1:0", postgres: "127.0.0.1:0", mysql: "127.0.0.1:0" }
store: { url: "sqlite:${join(dataDir, 'jitgate.db')}" }
audit: { file: "${join(dataDir, 'audit.jsonl')}", batch_max_delay_ms: 2 }
credentials: { sweep_on_start: false }
identities:
  api_keys:
    - { name: dev, key: "${TEST_KEYS.dev}", groups: [dev] }
brokers:
  vault:
    address: "${broker.address}"
    mount: database
    auth: { approle: { role_id: "${approle.role_id}", secret_id: "${approle.secret_id}" } }
resources:
  - name: vault-pg
    protocol: postgres
    broker: vault
    admin_url: "${world.db.scratch.url}"
    tls: { mode: disable }
    roles:${VAULT_ROLES_YAML}
policies:
  - { name: dev-any, resources: ["*"], roles: ["*"], requesters: [dev], approval: auto, max_ttl: 8h }
`;
    return startJitgate(parseConfigText(yaml, { env: {} }), createLogger(process.env.JITGATE_TEST_LOG_LEVEL ?? 'silent'));
  };

  beforeAll(async () => {
    world = await startVaultWorld('postgres');
    forwarder = await startForwarder(Number(new URL(world.target.address).port));
    handle = await startWithVault();
  });

  afterAll(async () => {
    if (forwarder?.child.exitCode === null) {
      forwarder.child.kill('SIGCONT');
      forwarder.child.kill('SIGKILL');
    }
    await handle?.close();
    await world?.close();
  });

  it('with Vault answering: ready, healthy, alive', async () => {
    expect(await eventually(async () => (await readyzVault()) === 'ok', 5_000)).toBe(true);
    const ready = await within1s(url('/readyz'));
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { store: { status: 'ok' }, audit: { status: 'ok' }, vault: { status: 'ok' } } });
    const health = await within1s(url('/healthz'));
    expect([health.status, health.body]).toEqual([200, expect.objectContaining({ status: 'ok', store: 'ok', audit: 'ok', vault: 'ok' })]);
    expect(await within1s(url('/livez'))).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('Vault stopped (SIGSTOP, connections accepted, never answered): /livez and /healthz within 1 s, /readyz 503 naming vault', async () => {
    forwarder.child.kill('SIGSTOP');
    try {
      // Over several probe intervals and probe timeouts: neither endpoint ever waits on the hung Vault.
      const deadline = Date.now() + 6_000;
      const slowest = { livez: 0, healthz: 0, readyz: 0 };
      while (Date.now() < deadline) {
        const health = await within1s(url('/healthz'));
        expect(health.body).toMatchObject({ store: 'ok', audit: 'ok' });
        const live = await within1s(url('/livez'));
        expect(live.status).toBe(200);
        const ready = await within1s(url('/readyz'));
        slowest.livez = Math.max(slowest.livez, live.ms);
        slowest.healthz = Math.max(slowest.healthz, health.ms);
        slowest.readyz = Math.max(slowest.readyz, ready.ms);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      console.log(`Vault stopped: slowest answers ${JSON.stringify(slowest)} ms`);
      expect(await eventually(async () => (await readyzVault()) === 'timeout', 5_000)).toBe(true);
      const ready = await within1s(url('/readyz'));
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'not_ready', notReady: ['vault'], checks: { vault: { status: 'timeout', detail: expect.stringMatching(/no answer within|did not answer in time/) as unknown } } });
      const health = await within1s(url('/healthz'));
      expect([health.status, health.body]).toEqual([503, expect.objectContaining({ status: 'degraded', vault: 'timeout' })]);
      // The rest of the API is not held up either.
      const resources = await within1s(url('/v1/resources'), { headers: { authorization: `Bearer ${TEST_KEYS.dev}` } });
      expect(resources.status).toBe(200);
      // Nor is a start: the broker's login to the hung Vault runs in the background.
      const startedAt = performance.now();
      const second = await startWithVault();
      try {
        const startMs = performance.now() - startedAt;
        expect(startMs).toBeLessThan(3_000);
        expect((await within1s(`${second.apiUrl}/livez`)).status).toBe(200);
        expect((await within1s(`${second.apiUrl}/healthz`)).body).toMatchObject({ store: 'ok', audit: 'ok' });
      } finally {
        await second.close();
      }
    } finally {
      forwarder.child.kill('SIGCONT');
    }
    expect(await eventually(async () => (await readyzVault()) === 'ok', 15_000, 200)).toBe(true);
  });

  it('Vault refusing connections (closed port): /livez and /healthz within 1 s, /readyz 503 with vault unreachable', async () => {
    const exited = new Promise((resolve) => forwarder.child.once('exit', resolve));
    forwarder.child.kill('SIGKILL');
    await exited;
    expect(await eventually(async () => (await readyzVault()) === 'unreachable', 8_000, 100)).toBe(true);
    const live = await within1s(url('/livez'));
    expect(live.status).toBe(200);
    const health = await within1s(url('/healthz'));
    expect([health.status, health.body]).toEqual([503, expect.objectContaining({ status: 'degraded', vault: 'unreachable' })]);
    const ready = await within1s(url('/readyz'));
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ notReady: ['vault'], checks: { vault: { status: 'unreachable', detail: expect.stringContaining('ECONNREFUSED') as unknown } } });
  });
});
