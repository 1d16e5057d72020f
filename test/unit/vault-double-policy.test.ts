// The Vault double's ACL evaluation (VAULT.md §7: HCL subset, `*` suffix and `+` segment globs, deny): the double
// must refuse what Vault refuses, or the broker's policy in README would pass tests and fail in production.
import { describe, expect, it } from 'vitest';
import { allowed, capabilitiesOn, parsePolicy, type PolicyRule } from '../support/vault-double/policy.js';

function rules(text: string): PolicyRule[] {
  const parsed = parsePolicy(text);
  if (!Array.isArray(parsed)) throw new Error(`policy refused: ${JSON.stringify(parsed)}`);
  return parsed;
}

const caps = (rulesList: readonly PolicyRule[], path: string): string[] => [...capabilitiesOn(rulesList, path)].sort();

describe('double ACL policies', () => {
  it('parses path blocks with comments; refuses unknown capabilities and stray text with 400', () => {
    const parsed = rules(`
# broker
path "database/creds/*" { capabilities = ["read"] }   // trailing comment
path "sys/leases/revoke" {
  capabilities = ["update"]
}`);
    expect(parsed.map((rule) => [rule.path, [...rule.capabilities]])).toEqual([['database/creds/*', ['read']], ['sys/leases/revoke', ['update']]]);
    expect(parsePolicy('path "x" { capabilities = ["reed"] }')).toMatchObject({ status: 400 });
    expect(parsePolicy('garbage')).toMatchObject({ status: 400 });
  });

  it('`*` matches a prefix, `+` exactly one segment; no match grants nothing', () => {
    const set = rules('path "database/creds/*" { capabilities = ["read"] }\npath "+/roles/+" { capabilities = ["list"] }');
    expect(caps(set, 'database/creds/readonly')).toEqual(['read']);
    expect(caps(set, 'database/creds/')).toEqual(['read']);
    expect(caps(set, 'database/config/app')).toEqual([]);
    expect(caps(set, 'mysqldb/roles/ro')).toEqual(['list']);
    expect(caps(set, 'mysqldb/roles/ro/extra')).toEqual([]);
  });

  it('the most specific rule wins (exact over glob, later wildcard over earlier); identical paths union; deny beats all', () => {
    const set = rules(`
path "database/*" { capabilities = ["read", "list"] }
path "database/creds/secret" { capabilities = ["deny"] }
path "database/creds/*" { capabilities = ["update"] }
path "database/creds/*" { capabilities = ["read"] }`);
    expect(caps(set, 'database/creds/readonly')).toEqual(['read', 'update']);
    expect(caps(set, 'database/config/app')).toEqual(['list', 'read']);
    expect(caps(set, 'database/creds/secret')).toEqual([]);
  });

  it('writes need create or update, sudo paths need sudo too', () => {
    expect(allowed(new Set(['update']), 'update', false)).toBe(true);
    expect(allowed(new Set(['create']), 'update', false)).toBe(true);
    expect(allowed(new Set(['read']), 'update', false)).toBe(false);
    expect(allowed(new Set(['update']), 'update', true)).toBe(false);
    expect(allowed(new Set(['update', 'sudo']), 'update', true)).toBe(true);
  });
});
