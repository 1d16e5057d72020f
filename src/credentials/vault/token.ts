// The broker's own Vault token (VAULT.md §1). Every lease dies with the token that minted it, so the keeper:
// - logs in with AppRole (or looks the configured token up) on first use;
// - before creds are minted, makes the token live at least as long as the lease must (renew-self with an increment,
//   and for AppRole a fresh login when the old token's max TTL is too close), and reports the bound when it cannot;
// - renews at ~2/3 of the TTL, keeping the TTL above the longest lease it minted;
// - replaces a token Vault no longer accepts (403 on lookup-self) by logging in again, and tells listeners that the
//   leases of the old token are gone. The old token is never revoked: its leases would go with it (§1.3).
import type { VaultBrokerConfig, VaultClient } from './client.js';
import { describeVaultFailure, vaultMessage, vaultStatus, VaultBrokerError } from './errors.js';
import { authResponse, isCapWarning, parseVault } from './responses.js';
import { covers, describeLoginFailure, iso, obtainToken, secondsUntil, type TokenBound, type TokenState, type VaultLogger } from './token-state.js';

export type { TokenBound, VaultLogger } from './token-state.js';

export interface TokenKeeperOptions {
  readonly client: VaultClient;
  readonly config: VaultBrokerConfig;
  readonly logger: VaultLogger;
  /** Renew at this fraction of the remaining TTL (default 2/3). */
  readonly renewFraction?: number;
  /** Between renewals, look the token up this often to notice a revoked one (default 60 s). */
  readonly checkIntervalMs?: number;
}

const SLACK_SECONDS = 30;
/** A capped token with less than this left is replaced rather than renewed again. */
const MIN_REMAINING_MS = 5_000;
const RETRY_MS = 5_000;

export class VaultTokenKeeper {
  readonly #client: VaultClient;
  readonly #config: VaultBrokerConfig;
  readonly #logger: VaultLogger;
  readonly #fraction: number;
  readonly #checkIntervalMs: number;
  #state: TokenState | undefined;
  #pending: Promise<TokenState> | undefined;
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #lost: ((generation: number, reason: string) => void)[] = [];

  constructor(options: TokenKeeperOptions) {
    this.#client = options.client;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#fraction = options.renewFraction ?? 2 / 3;
    this.#checkIntervalMs = options.checkIntervalMs ?? 60_000;
  }

  get #approle(): { role_id: string; secret_id: string } | undefined {
    return 'approle' in this.#config.auth ? this.#config.auth.approle : undefined;
  }

  /** Everything that must never appear in a message. */
  secrets(): string[] {
    const auth = this.#config.auth;
    const configured = 'token' in auth ? [auth.token] : [auth.approle.secret_id, auth.approle.role_id];
    return [...configured, this.#state?.token ?? '', this.#client.token].filter((secret) => secret !== '');
  }

  onTokenLost(listener: (generation: number, reason: string) => void): void {
    this.#lost.push(listener);
  }

  async current(): Promise<TokenState> {
    if (this.#closed) throw new VaultBrokerError('invalid_token', 'token', 'the broker is closed');
    const state = this.#state;
    if (state !== undefined && !state.dead) return state;
    if (state?.dead === true && this.#approle === undefined) {
      throw new VaultBrokerError('invalid_token', 'token', 'the configured Vault token is expired or revoked; configure a new one');
    }
    this.#pending ??= this.#acquire().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Makes the token outlive `endMs` if Vault lets it; returns the bound leases minted now live under. */
  async coverUntil(endMs: number): Promise<TokenBound> {
    let state = await this.#extend(await this.current(), endMs, true);
    if (!covers(state, endMs) && this.#approle !== undefined) {
      this.#logger.info({ endsAt: iso(state.expiresAt) }, 'vault broker: token would end before the lease; logging in afresh');
      state = await this.#extend(await this.#replace(state, 'its max TTL ends before the lease must'), endMs, false);
    }
    if (covers(state, endMs)) return { generation: state.generation, endsAt: undefined };
    const endsAt = new Date(state.maxEndMs ?? state.expiresAt ?? endMs);
    this.#logger.warn({ tokenEndsAt: endsAt.toISOString(), leaseEndsAt: new Date(endMs).toISOString() },
      'vault broker: the Vault token cannot live as long as the lease; the lease dies with the token (raise token_max_ttl or use token_period)');
    return { generation: state.generation, endsAt };
  }

  /** Renews `state` to reach `endMs` when that can help; a token found dead meanwhile is replaced (once) and extended. */
  async #extend(state: TokenState, endMs: number, retryReplaced: boolean): Promise<TokenState> {
    state.neededUntilMs = Math.max(state.neededUntilMs, endMs);
    if (covers(state, endMs) || !state.renewable || (state.maxEndMs !== undefined && state.maxEndMs < endMs)) return state;
    const renewed = await this.#renew(state, secondsUntil(endMs) + SLACK_SECONDS);
    return renewed !== state && retryReplaced ? this.#extend(renewed, endMs, false) : renewed;
  }

  /** Runs `call`; a 403 from a token Vault no longer accepts means log in again (AppRole) and try once more. */
  async call<T>(call: () => Promise<T>): Promise<T> {
    const state = await this.current();
    try {
      return await call();
    } catch (error) {
      if (vaultStatus(error) !== 403 || !(await this.#isDead(state))) throw error;
      this.#markDead(state, 'Vault no longer accepts the token (expired or revoked)');
      if (this.#approle === undefined) {
        throw new VaultBrokerError('invalid_token', 'token', 'the configured Vault token is expired or revoked; configure a new one', 403);
      }
      await this.current();
      return call();
    }
  }

  /** Warns when even a fresh token cannot outlive the longest grant (§1.1): such grants would lose their user early. */
  async checkLifetime(longestGrantSeconds: number): Promise<void> {
    const state = await this.current();
    const end = Date.now() + longestGrantSeconds * 1000;
    if (covers(state, end)) return;
    const renewed = state.renewable ? await this.#renew(state, longestGrantSeconds + SLACK_SECONDS) : state;
    if (covers(renewed, end)) return;
    const left = Math.max(0, Math.round(((renewed.maxEndMs ?? renewed.expiresAt ?? 0) - Date.now()) / 1000));
    this.#logger.warn({ tokenSecondsLeft: left, longestGrantSeconds },
      `vault broker: the broker's Vault token can live ${left}s more, less than the longest grant (${longestGrantSeconds}s); `
      + 'leases die with their token, so such grants end early — give the AppRole token_period (or a larger token_max_ttl)');
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #acquire(): Promise<TokenState> {
    try {
      const state = await obtainToken(this.#client, this.#config, ++this.#generation);
      this.#state = state;
      this.#logger.info({ expiresAt: iso(state.expiresAt), periodic: state.periodSeconds > 0, renewable: state.renewable },
        this.#approle === undefined ? 'vault broker: using the configured token' : 'vault broker: logged in with AppRole');
      this.#schedule(state);
      return state;
    } catch (error) {
      throw describeLoginFailure(this.#config, error, this.secrets());
    }
  }

  async #replace(state: TokenState, reason: string): Promise<TokenState> {
    if (this.#state === state) this.#state = undefined;
    this.#logger.info({ generation: state.generation, reason }, 'vault broker: replacing the Vault token (the old one is left to expire with its leases)');
    return this.current();
  }

  async #renew(state: TokenState, incrementSeconds: number): Promise<TokenState> {
    try {
      const answer = parseVault(authResponse, await this.#client.tokenRenewSelf({ increment: incrementSeconds }), 'token', 'token renew-self');
      const now = Date.now();
      state.expiresAt = now + answer.auth.lease_duration * 1000;
      state.renewable = answer.auth.renewable;
      if (answer.warnings.some(isCapWarning) || (state.periodSeconds === 0 && answer.auth.lease_duration < incrementSeconds)) {
        state.maxEndMs = state.expiresAt;
      }
      this.#schedule(state);
      return state;
    } catch (error) {
      if (vaultStatus(error) === 403 && (await this.#isDead(state))) {
        this.#markDead(state, 'Vault refused to renew the token: it expired or was revoked');
        if (this.#approle !== undefined) return this.current();
        throw new VaultBrokerError('invalid_token', 'token', 'the configured Vault token is expired or revoked; configure a new one', 403);
      }
      if (vaultStatus(error) === 400) {
        // Not renewable (or a root token): keep it for what it has left.
        this.#logger.warn({ error: vaultMessage(error) }, 'vault broker: Vault refused to renew the token');
        state.renewable = false;
        return state;
      }
      throw describeVaultFailure({ operation: 'token', address: this.#config.address, path: 'auth/token/renew-self',
        doing: 'renewing the broker token', secrets: this.secrets() }, error);
    }
  }

  async #isDead(state: TokenState): Promise<boolean> {
    if (state.dead) return true;
    try {
      await this.#client.tokenLookupSelf();
      return false;
    } catch (error) {
      return vaultStatus(error) === 403;
    }
  }

  #markDead(state: TokenState, reason: string): void {
    if (state.dead) return;
    state.dead = true;
    if (this.#state === state) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      // AppRole logs in again at the next use; a configured token stays dead until the config changes.
      if (this.#approle !== undefined) this.#state = undefined;
    }
    this.#logger.warn({ generation: state.generation, reason }, 'vault broker: token lost; the leases it minted are gone with it');
    for (const listener of this.#lost) listener(state.generation, reason);
  }

  /** The next renewal at `fraction` of what is left, with a lookup-self every `checkIntervalMs` in between. */
  #schedule(state: TokenState, delayMs?: number): void {
    if (state.expiresAt === undefined) return;
    state.renewAt = Date.now() + (delayMs ?? Math.max(250, (state.expiresAt - Date.now()) * this.#fraction));
    this.#arm(state);
  }

  #arm(state: TokenState): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || state.expiresAt === undefined || (!state.renewable && this.#approle === undefined)) return;
    const delay = Math.max(0, Math.min(state.renewAt - Date.now(), this.#checkIntervalMs));
    this.#timer = setTimeout(() => void this.#tick(state), delay);
    this.#timer.unref();
  }

  async #tick(state: TokenState): Promise<void> {
    if (this.#closed || this.#state !== state || state.dead) return;
    const now = Date.now();
    try {
      if (now < state.renewAt - 10) {
        // Not time to renew: only make sure Vault still knows the token (revoked tokens take their leases along).
        if (await this.#isDead(state)) {
          this.#markDead(state, 'the token was revoked or expired in Vault');
          if (this.#approle !== undefined) await this.current();
        } else {
          this.#arm(state);
        }
        return;
      }
      const nearCap = state.maxEndMs !== undefined && state.maxEndMs - now < MIN_REMAINING_MS;
      if ((nearCap || !state.renewable) && this.#approle !== undefined) {
        await this.#replace(state, nearCap ? 'it reached its max TTL' : 'it is not renewable');
        return;
      }
      const wanted = Math.max(state.baseTtlSeconds, secondsUntil(state.neededUntilMs));
      await this.#renew(state, state.periodSeconds > 0 ? state.periodSeconds : wanted);
    } catch (error) {
      this.#logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'vault broker: token renewal failed; retrying');
      const left = (state.expiresAt ?? now) - now;
      if (this.#state === state) this.#schedule(state, Math.max(250, Math.min(RETRY_MS, left / 2)));
    }
  }
}
