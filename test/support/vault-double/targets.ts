// Where the Vault contract suite runs: the double (always), or real Vault in a container (testcontainers 11.x
// GenericContainer, VAULT.md §6) when a Docker engine answers. A target also says how the test databases look from
// inside Vault (a container sees the host's throwaway servers at host.testcontainers.internal) and how Vault time
// passes (the double's clock is advanced; real Vault is waited for).
import type { ExpirySchedule } from './expiry.js';
import { VaultDouble, type VaultDoubleOptions } from './server.js';

export interface VaultTarget {
  readonly name: string;
  readonly address: string;
  readonly rootToken: string;
  /** True for the double: Vault time can be advanced and the retry schedule is scaled down. */
  readonly scaledClock: boolean;
  /** The double itself, for the test hook (undefined for real Vault). */
  readonly double: VaultDouble | undefined;
  /** The host name Vault uses to reach a server listening on this machine's 127.0.0.1. */
  readonly databaseHost: string;
  /** Lets `ms` of Vault time pass. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The retry schedule the suites give the double: ≈40, 80, 160, 320, 640 ms instead of 20 s … 320 s. */
export const FAST_SCHEDULE: Partial<ExpirySchedule> = { retryBaseMs: 20, maxAttempts: 6, irrevocableRetryMs: 60_000 };

export async function doubleTarget(options: VaultDoubleOptions = { schedule: FAST_SCHEDULE }): Promise<VaultTarget> {
  const double = await VaultDouble.start(options);
  return {
    name: 'Vault double', address: double.address, rootToken: double.rootToken, scaledClock: true, double, databaseHost: '127.0.0.1',
    elapse: async (ms) => {
      double.advance(ms);
      await sleep(20); // let the timers' async revocations start
    },
    close: () => double.close(),
  };
}

export const REAL_VAULT_IMAGE = 'hashicorp/vault:1.21.4';

/** undefined when a container runtime answers; otherwise why not (printed by the suite that skips). */
export async function dockerUnavailableReason(timeoutMs = 5_000): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([getContainerRuntimeClient(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Real Vault in dev mode, set up as VAULT.md §6 shows. `hostPorts` are the throwaway servers' ports on this machine:
 * they are exposed to containers before Vault starts, and Vault reaches them at host.testcontainers.internal.
 */
export async function realVaultTarget(hostPorts: readonly number[]): Promise<VaultTarget> {
  const { GenericContainer, TestContainers, Wait } = await import('testcontainers');
  await TestContainers.exposeHostPorts(...hostPorts);
  const container = await new GenericContainer(REAL_VAULT_IMAGE)
    .withExposedPorts(8200)
    .withEnvironment({ VAULT_DEV_ROOT_TOKEN_ID: 'root', VAULT_TOKEN: 'root', VAULT_ADDR: 'http://0.0.0.0:8200' })
    .withAddedCapabilities('IPC_LOCK')
    .withWaitStrategy(Wait.forHttp('/v1/sys/health', 8200).forStatusCode(200))
    .start();
  return {
    name: `real Vault (${REAL_VAULT_IMAGE})`, address: `http://${container.getHost()}:${container.getMappedPort(8200)}`, rootToken: 'root',
    scaledClock: false, double: undefined, databaseHost: 'host.testcontainers.internal',
    elapse: sleep,
    close: async () => {
      await container.stop();
    },
  };
}

export interface VaultReply {
  readonly status: number;
  /** Parsed JSON, or undefined for an empty body (204). */
  readonly body: Record<string, unknown> | undefined;
}

/** Raw HTTP, so the suite sees Vault's exact status codes (node-vault folds 202/4xx into rejections). */
export async function vaultCall(address: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<VaultReply> {
  const response = await fetch(`${address}/v1/${path}`, {
    method,
    headers: { ...(options.token === undefined ? {} : { 'X-Vault-Token': options.token }), 'content-type': 'application/json' },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

/** The `errors[0]` of a reply ('' when none). */
export const firstError = (reply: VaultReply): string => {
  const errors = reply.body?.errors;
  return Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0] : '';
};

export const record = (value: unknown): Record<string, unknown> =>
  (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {});

/** Polls `check` until true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
