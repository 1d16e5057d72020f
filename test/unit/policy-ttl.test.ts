// A ttl the policy or the role cuts short is said, not silently granted shorter (issue 19, defect 11): the decision
// names what limited it, so the API and the CLI can tell the requester.
import { describe, expect, it } from 'vitest';
import { evaluateGrantRequest, type PolicyDecision } from '../../src/access/policy.js';
import type { Identity } from '../../src/access/identity.js';
import { testConfig } from '../support/test-config.js';

const { config } = testConfig();
const dev: Identity = { name: 'dev', groups: ['dev'], via: 'api_key' };
const decide = (role: string, ttlSeconds: number | undefined, cfg = config): PolicyDecision => {
  const decision = evaluateGrantRequest(cfg, dev, { resource: 'orders-pg', role, ttlSeconds, reason: 'r' });
  if (decision instanceof Error) throw decision;
  return decision;
};

describe('ttl clamping', () => {
  it('a ttl within both limits is granted as asked, with nothing clamped', () => {
    expect(decide('readonly', 1_800)).toMatchObject({ ttlSeconds: 1_800, requestedTtlSeconds: 1_800, ttlClamped: null });
  });

  it('names the policy when its max_ttl is the limit', () => {
    expect(decide('readonly', 9 * 3_600)).toMatchObject({
      ttlSeconds: 4 * 3_600, requestedTtlSeconds: 9 * 3_600, ttlClamped: { by: 'policy', name: 'dev-readonly', maxTtlSeconds: 4 * 3_600 },
    });
  });

  it('names the role when its max_ttl is below the policy\'s', () => {
    const generous = { ...config, policies: config.policies.map((policy) => (policy.name === 'dev-readonly' ? { ...policy, max_ttl: 86_400 } : policy)) };
    expect(decide('readonly', 86_400, generous)).toMatchObject({
      ttlSeconds: 8 * 3_600, ttlClamped: { by: 'role', name: 'readonly', maxTtlSeconds: 8 * 3_600 },
    });
  });

  it('the default ttl is reported as requested when the request names none', () => {
    expect(decide('readonly', undefined)).toMatchObject({ requestedTtlSeconds: config.grants.default_ttl, ttlClamped: null });
  });
});
