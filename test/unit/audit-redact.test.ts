import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/events.js';
import { isSecretMemberName, redactEvent, redactSecrets } from '../../src/audit/redact.js';
import { Secret } from '../../src/audit/secret.js';

describe('isSecretMemberName', () => {
  it('matches the secret names in any case, and the _password / Password suffixes', () => {
    for (const name of ['token', 'TOKEN', 'Password', 'secret', 'Authorization', 'api_key', 'apiKey', 'APIKEY',
      'lease_password', 'DB_PASSWORD', 'leasePassword', 'access_token', 'refreshToken', 'client_secret', 'clientSecret']) {
      expect(isSecretMemberName(name), name).toBe(true);
    }
  });

  it('leaves ordinary names alone', () => {
    for (const name of ['user', 'username', 'passwordless', 'password_encryption', 'tokens', 'sql', 'reason', 'leaseId', 'keyId']) {
      expect(isSecretMemberName(name), name).toBe(false);
    }
  });
});

describe('redactSecrets', () => {
  it('replaces secret members at any depth, whatever they hold', () => {
    const input = {
      user: 'alice',
      token: 'tok_123',
      nested: { password: 'hunter2', keep: 1, deeper: { Authorization: 'Bearer abc', apiKey: { id: 'k', value: 'v' } } },
      list: [{ secret: 's1', name: 'a' }, { name: 'b' }, 'plain'],
      leasePassword: 42,
    };
    expect(redactSecrets(input)).toEqual({
      user: 'alice',
      token: '[redacted]',
      nested: { password: '[redacted]', keep: 1, deeper: { Authorization: '[redacted]', apiKey: '[redacted]' } },
      list: [{ secret: '[redacted]', name: 'a' }, { name: 'b' }, 'plain'],
      leasePassword: '[redacted]',
    });
    expect(input.token).toBe('tok_123');
    expect(input.nested.password).toBe('hunter2');
  });

  it('replaces Secret values wherever they sit', () => {
    expect(redactSecrets({ credential: new Secret('x'), list: [new Secret('y')] })).toEqual({ credential: '[redacted]', list: ['[redacted]'] });
  });

  it('returns a clean value as the same reference and shares clean branches', () => {
    const clean = { a: { b: [1, 2] }, c: 'x' };
    expect(redactSecrets(clean)).toBe(clean);
    const mixed = { clean: { x: 1 }, dirty: { token: 't' } };
    expect(redactSecrets(mixed).clean).toBe(mixed.clean);
  });

  it('keeps undefined secret members undefined', () => {
    expect(redactSecrets({ token: undefined, a: 1 })).toEqual({ token: undefined, a: 1 });
  });
});

describe('redactEvent', () => {
  const statement = (sql: string): AuditEvent => ({
    type: 'statement', id: 'e_aaaaaaaaaaaaaaaaaaaa', ts: '2024-05-01T12:00:00.000Z', session: 's_x', grant: 'g_x',
    seq: 1, kind: 'query', sql, started: '2024-05-01T12:00:00.000Z', duration_us: 10,
  });

  it('removes password literals from statement SQL', () => {
    const event = redactEvent(statement("ALTER ROLE app PASSWORD 'p4ss'"));
    expect(event.type === 'statement' && event.sql).toBe("ALTER ROLE app PASSWORD '[redacted]'");
  });

  it('returns other statements untouched', () => {
    const event = statement('SELECT password FROM users');
    expect(redactEvent(event)).toBe(event);
  });
});

describe('Secret', () => {
  const secret = new Secret('hunter2');

  it('reveals only on request', () => {
    expect(secret.reveal()).toBe('hunter2');
  });

  it('prints as [redacted] every way Node turns it into text', () => {
    const texts = [
      JSON.stringify({ secret }), String(secret), `${secret}`, inspect(secret), inspect({ nested: { secret } }, { depth: 5 }),
      format('%s %o %O %j', secret, secret, secret, secret), secret.toString(),
    ];
    for (const text of texts) {
      expect(text).not.toContain('hunter2');
      expect(text).toContain('[redacted]');
    }
    expect(Object.keys(secret)).toEqual([]);
    expect({ ...secret }).toEqual({});
  });
});
