// The broker token's state as the keeper tracks it, and getting one: AppRole login (or the configured token), then
// lookup-self for what login does not say (period, creation TTL).
import type { VaultBrokerConfig, VaultClient } from './client.js';
import { describeVaultFailure, VaultBrokerError } from './errors.js';
import { authResponse, lookupSelfResponse, parseVault } from './responses.js';

export interface VaultLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface TokenState {
  readonly generation: number;
  readonly token: string;
  /** Unix ms; undefined for a token without TTL (root). */
  expiresAt: number | undefined;
  renewable: boolean;
  /** > 0 for a periodic token: every renewal resets the TTL to the period. */
  readonly periodSeconds: number;
  readonly baseTtlSeconds: number;
  /** The end Vault said the token cannot pass (learnt from a capped renewal). */
  maxEndMs: number | undefined;
  /** The latest lease end minted with this token: renewals keep the TTL above it. */
  neededUntilMs: number;
  /** When the next renewal is due (ms). */
  renewAt: number;
  dead: boolean;
}

/** Which token minted a lease, and the end it cannot outlive (undefined: the token lives as long as it is renewed). */
export interface TokenBound {
  readonly generation: number;
  readonly endsAt: Date | undefined;
}

export async function obtainToken(client: VaultClient, config: VaultBrokerConfig, generation: number): Promise<TokenState> {
  const auth = config.auth;
  if ('approle' in auth) {
    const login = parseVault(authResponse, await client.approleLogin({ role_id: auth.approle.role_id, secret_id: auth.approle.secret_id }), 'login', 'AppRole login');
    client.token = login.auth.client_token;
  } else {
    client.token = auth.token;
  }
  const looked = parseVault(lookupSelfResponse, await client.tokenLookupSelf(), 'token', 'token lookup-self').data;
  const now = Date.now();
  return {
    generation,
    token: client.token,
    expiresAt: looked.ttl === 0 && (looked.expire_time ?? null) === null ? undefined : now + looked.ttl * 1000,
    renewable: looked.renewable,
    periodSeconds: looked.period ?? 0,
    baseTtlSeconds: looked.creation_ttl > 0 ? looked.creation_ttl : looked.ttl,
    maxEndMs: undefined,
    neededUntilMs: now,
    renewAt: now,
    dead: false,
  };
}

export function describeLoginFailure(config: VaultBrokerConfig, error: unknown, secrets: readonly string[]): VaultBrokerError {
  const approle = 'approle' in config.auth;
  const failure = describeVaultFailure({
    operation: approle ? 'login' : 'token', address: config.address, path: approle ? 'auth/approle/login' : 'auth/token/lookup-self',
    doing: approle ? 'logging in with AppRole' : 'looking up the configured token', secrets,
  }, error);
  if (failure.status === 403 && !approle) {
    return new VaultBrokerError('invalid_token', 'token', 'Vault does not accept the configured token (403): expired, revoked or mistyped', 403);
  }
  return failure;
}

/** The token lives until `endMs`: no TTL, periodic (kept alive by renewal), or its TTL reaches that far. */
export const covers = (state: TokenState, endMs: number): boolean =>
  state.expiresAt === undefined || (state.periodSeconds > 0 && state.maxEndMs === undefined) || state.expiresAt >= endMs;

export const secondsUntil = (endMs: number): number => Math.max(1, Math.ceil((endMs - Date.now()) / 1000));

export const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
