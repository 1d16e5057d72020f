// The pure parts of revocation: backoff delays, when alerts fire, secret-free error text, and user name → grant.
import { describe, expect, it } from 'vitest';
import { grantIdOfUsername, roleOfUsername } from '../../src/credentials/managed-users.js';
import { DEFAULT_RETRY_POLICY, describeRevocationError, retryDelayMs, shouldAlert } from '../../src/credentials/retry-policy.js';

describe('retryDelayMs', () => {
  it('starts at 1 s, doubles, caps at 60 s', () => {
    const middle = (failures: number): number => retryDelayMs(DEFAULT_RETRY_POLICY, failures, 0.5);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100, 10_000].map(middle)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('jitters by ±20 % and never exceeds the cap', () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, 0)).toBe(800);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, 0.999_999)).toBe(1_200);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 7, 0)).toBe(48_000);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 7, 0.999_999)).toBe(60_000);
  });
});

describe('shouldAlert', () => {
  it('alerts at the 3rd failure, then every 60th', () => {
    const alerted = Array.from({ length: 200 }, (_, index) => index + 1).filter((failures) => shouldAlert(DEFAULT_RETRY_POLICY, failures));
    expect(alerted).toEqual([3, 63, 123, 183]);
  });
});

describe('describeRevocationError', () => {
  it('keeps message and code, cuts secrets, bounds the length', () => {
    const error = Object.assign(new Error('password authentication failed (pw: hunter2hunter2)'), { code: '28P01' });
    expect(describeRevocationError(error, ['hunter2hunter2', ''])).toBe('password authentication failed (pw: [redacted]) (28P01)');
    expect(describeRevocationError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), [])).toBe('connect ECONNREFUSED');
    expect(describeRevocationError('x'.repeat(2_000), [])).toHaveLength(500);
    expect(describeRevocationError(undefined, [])).toBe('undefined');
  });
});

describe('grantIdOfUsername', () => {
  it('reads the grant suffix of a lease user name, on either engine', () => {
    expect(grantIdOfUsername('jg_readonly_abcdefghijklmnopqrst')).toBe('g_abcdefghijklmnopqrst');
    expect(grantIdOfUsername('jg_readw_abcdefghijklmnopqrst')).toBe('g_abcdefghijklmnopqrst'); // role cut short (MySQL)
    expect(grantIdOfUsername('jg__abcdefghijklmnopqrst')).toBe('g_abcdefghijklmnopqrst');
    expect(roleOfUsername('jg_readonly_abcdefghijklmnopqrst')).toBe('readonly');
  });

  it('refuses names jitgate could not have made', () => {
    for (const name of ['jg_dba_tools', 'xx_readonly_abcdefghijklmnopqrst', 'jg_readonly-abcdefghijklmnopqrst',
      'jg_readonly_abcdefghijklmnopqrs1', 'jg_readonly_ABCDEFGHIJKLMNOPQRST', 'jg_abcdefghijklmnopqrst']) {
      expect(grantIdOfUsername(name), name).toBeUndefined();
    }
  });
});
