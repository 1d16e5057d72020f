// The broker token keeper against a scripted stand-in for node-vault's client (only the three token calls it uses):
// covering a lease's lifetime by renew-self or a fresh AppRole login, periodic tokens, and telling a dead token (403
// on lookup-self) from an ACL denial.
import { afterEach, describe, expect, it } from 'vitest';
import type { VaultClient } from '../../src/credentials/vault/client.js';
import { VaultBrokerError } from '../../src/credentials/vault/errors.js';
import { VaultTokenKeeper } from '../../src/credentials/vault/token.js';

const forbidden = (): Error => Object.assign(new Error('permission denied'), { response: { statusCode: 403, body: { errors: ['permission denied'] } } });

/** Vault's token rules for one AppRole role: `ttl` at login, renewals cut at `maxTtl` from login, or a `period`. */
class ScriptedVault {
  token = '';
  readonly calls: string[] = [];
  readonly dead = new Set<string>();
  #logins = 0;
  #createdAt = new Map<string, number>();

  constructor(private readonly ttl: number, private readonly maxTtl: number, private readonly period = 0) {}

  approleLogin = async (): Promise<unknown> => {
    this.calls.push('login');
    this.token = `hvs.token${++this.#logins}`;
    this.#createdAt.set(this.token, Date.now());
    return { auth: { client_token: this.token, accessor: `acc${this.#logins}`, lease_duration: this.period || this.ttl, renewable: true, policies: ['default'] } };
  };

  tokenLookupSelf = async (): Promise<unknown> => {
    this.calls.push('lookup');
    if (this.dead.has(this.token)) throw forbidden();
    const ttl = this.period || this.ttl;
    return { data: { accessor: 'acc', ttl, creation_ttl: ttl, expire_time: new Date(Date.now() + ttl * 1000).toISOString(), renewable: true, period: this.period || null } };
  };

  tokenRenewSelf = async ({ increment }: { increment: number }): Promise<unknown> => {
    this.calls.push(`renew ${increment}`);
    if (this.dead.has(this.token)) throw forbidden();
    const left = this.maxTtl - Math.floor((Date.now() - (this.#createdAt.get(this.token) ?? 0)) / 1000);
    const ttl = this.period || Math.min(increment, left);
    const warnings = ttl < increment && this.period === 0 ? [`TTL of "${increment}s" exceeded the effective max_ttl of "${left}s"; TTL value is capped accordingly`] : null;
    return { auth: { client_token: this.token, accessor: 'acc', lease_duration: ttl, renewable: true }, warnings };
  };

  asClient(): VaultClient {
    return this as unknown as VaultClient;
  }
}

const logger = { info: () => {}, warn: () => {}, error: () => {} };
const approle = { address: 'http://vault:8200', mount: 'database', auth: { approle: { role_id: 'r', secret_id: 's' } } };
const keepers: VaultTokenKeeper[] = [];
const keeper = (vault: ScriptedVault, config: typeof approle | { address: string; mount: string; auth: { token: string } } = approle): VaultTokenKeeper => {
  const made = new VaultTokenKeeper({ client: vault.asClient(), config, logger });
  keepers.push(made);
  return made;
};

afterEach(() => {
  for (const made of keepers.splice(0)) made.close();
});

describe('VaultTokenKeeper', () => {
  it('renews a token to outlive the lease; when its max TTL forbids, logs in afresh; when even that fails, reports the bound', async () => {
    const vault = new ScriptedVault(60, 120);
    const tokens = keeper(vault);
    const covered = await tokens.coverUntil(Date.now() + 100_000);
    expect(covered).toEqual({ generation: 1, endsAt: undefined });
    expect(vault.calls).toEqual(['login', 'lookup', 'renew 130']);

    vault.calls.length = 0;
    const bounded = await tokens.coverUntil(Date.now() + 3_600_000);
    expect(vault.calls).toEqual(['login', 'lookup', 'renew 3630']); // the old token is capped at 120 s: a new login
    expect(bounded.generation).toBe(2);
    expect((bounded.endsAt?.getTime() ?? 0) - Date.now()).toBeLessThanOrEqual(120_000);
    expect((bounded.endsAt?.getTime() ?? 0) - Date.now()).toBeGreaterThan(110_000);
  });

  it('a periodic token covers any lease (it is renewed every period) without a renewal now', async () => {
    const vault = new ScriptedVault(0, 0, 300);
    const bound = await keeper(vault).coverUntil(Date.now() + 8 * 3_600_000);
    expect(bound).toEqual({ generation: 1, endsAt: undefined });
    expect(vault.calls).toEqual(['login', 'lookup']);
  });

  it('a 403 from a dead token: listeners hear of it, a new login follows and the call is retried once', async () => {
    const vault = new ScriptedVault(3600, 7200);
    const tokens = keeper(vault);
    const lost: number[] = [];
    tokens.onTokenLost((generation) => lost.push(generation));
    await tokens.current();
    vault.dead.add(vault.token);
    let attempts = 0;
    const result = await tokens.call(async () => {
      attempts += 1;
      if (vault.dead.has(vault.token)) throw forbidden();
      return 'ok';
    });
    expect([result, attempts, lost]).toEqual(['ok', 2, [1]]);
    expect(vault.calls).toEqual(['login', 'lookup', 'lookup', 'login', 'lookup']);
  });

  it('a 403 while lookup-self works is an ACL denial: rethrown, no new login', async () => {
    const vault = new ScriptedVault(3600, 7200);
    const tokens = keeper(vault);
    await expect(tokens.call(async () => {
      throw forbidden();
    })).rejects.toMatchObject({ response: { statusCode: 403 } });
    expect(vault.calls).toEqual(['login', 'lookup', 'lookup']);
  });

  it('a configured token Vault refuses is invalid_token, and stays so (no login to fall back on)', async () => {
    const vault = new ScriptedVault(3600, 7200);
    vault.dead.add('hvs.configured');
    const tokens = keeper(vault, { address: 'http://vault:8200', mount: 'database', auth: { token: 'hvs.configured' } });
    const error = await tokens.current().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultBrokerError);
    expect(error).toMatchObject({ code: 'invalid_token' });
    expect(String(error)).not.toContain('hvs.configured');
  });
});
