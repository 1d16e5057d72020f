// The Vault-made user names listManagedUsers recognises, written out by hand from the default username templates
// (VAULT.md §2), not produced by the code under test.
import { describe, expect, it } from 'vitest';
import { isVaultUsername } from '../../src/credentials/vault/usernames.js';

describe('isVaultUsername', () => {
  it('PostgreSQL: v-<display|8>-<role|8>-<20 base62>-<unix time>, at most 63', () => {
    expect(isVaultUsername('postgres', ['readonly'], 'v-approle-readonly-Qm9wU1ZhbWx9TktrR2ky-1767225600')).toBe(true);
    expect(isVaultUsername('postgres', ['readonly'], 'v-root-readonly-Qm9wU1ZhbWx9TktrR2ky-1767225600')).toBe(true);
    expect(isVaultUsername('postgres', ['readonly'], 'v-token-my-readonly-Qm9wU1ZhbWx9TktrR2ky-1767225600')).toBe(true);
    // Role names are cut at 8: "analytics_ro" appears as "analytic".
    expect(isVaultUsername('postgres', ['analytics_ro'], 'v-approle-analytic-Qm9wU1ZhbWx9TktrR2ky-1767225600')).toBe(true);
  });

  it('PostgreSQL: other roles, other shapes and jitgate builtin users are not Vault users of the resource', () => {
    expect(isVaultUsername('postgres', ['readonly'], 'v-approle-readwrit-Qm9wU1ZhbWx9TktrR2ky-1767225600')).toBe(false);
    expect(isVaultUsername('postgres', ['readonly'], 'v-approle-readonly-short-1767225600')).toBe(false);
    expect(isVaultUsername('postgres', ['readonly'], 'jg_readonly_abcdefghijklmnopqrst')).toBe(false);
    expect(isVaultUsername('postgres', ['readonly'], 'postgres')).toBe(false);
  });

  it('MySQL: cut at 32, so the random part is shortened and the timestamp gone; legacy plugins: v-<role|4>-<random>, 16', () => {
    expect(isVaultUsername('mysql', ['readonly'], 'v-approle-readonly-Qm9wU1ZhbWx9T')).toBe(true);
    expect('v-approle-readonly-Qm9wU1ZhbWx9T'.length).toBe(32);
    expect(isVaultUsername('mysql', ['readonly'], 'v-approle-readonly-Qm9wU1ZhbWx9TX')).toBe(false); // 33 characters
    expect(isVaultUsername('mysql', ['readonly'], 'v-read-Qm9wU1Zha')).toBe(true); // 7 + 9 = 16
    expect(isVaultUsername('mysql', ['readwrite'], 'v-approle-readonly-Qm9wU1ZhbWx9T')).toBe(false);
  });
});
