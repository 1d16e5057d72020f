// When to try a failed revocation again, and when to raise an alert: pure decisions, so tests pin them down exactly.

export interface RetryPolicy {
  /** Delay after the first failure; doubled per further failure. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** The failure count at which an `alert` (critical) is raised. */
  readonly alertAfterFailures: number;
  /** Once alerted, a reminder every this many further failures (60 × the 60 s cap ≈ hourly). */
  readonly remindEveryFailures: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  alertAfterFailures: 3,
  remindEveryFailures: 60,
};

/**
 * Delay before the next attempt after `failures` failed ones (≥ 1): exponential, capped, with ±20 % jitter so that
 * many leases failing together (one resource down) do not retry in lockstep. `random` is in [0, 1).
 */
export function retryDelayMs(policy: RetryPolicy, failures: number, random: number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  return Math.round(Math.min(policy.maxDelayMs, base * (0.8 + 0.4 * random)));
}

export function shouldAlert(policy: RetryPolicy, failures: number): boolean {
  if (failures < policy.alertAfterFailures) return false;
  return (failures - policy.alertAfterFailures) % policy.remindEveryFailures === 0;
}

const MAX_ERROR_LENGTH = 500;

/** The error as stored and audited: its message and code, every `secrets` value cut out, bounded in length. */
export function describeRevocationError(error: unknown, secrets: readonly string[]): string {
  let text = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && !text.includes(code)) text = `${text} (${code})`;
  for (const secret of secrets) if (secret !== '') text = text.split(secret).join('[redacted]');
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
