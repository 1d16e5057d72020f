// UI logins: opaque ids, idle and absolute expiry, a bounded table, per-login CSRF tokens; cookie parsing and flags.
import { describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie } from '../../src/api/ui/cookies.js';
import { tokensEqual, UiLogins } from '../../src/api/ui/login-sessions.js';
import type { Identity } from '../../src/access/identity.js';

const alice: Identity = { name: 'alice', groups: ['dba'], via: 'api_key' };

describe('UiLogins', () => {
  it('hands out random 43-character ids and distinct CSRF tokens, and finds the login by id only', () => {
    const logins = new UiLogins();
    const a = logins.create(alice);
    const b = logins.create(alice);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.login.csrf).not.toBe(b.login.csrf);
    expect(logins.lookup(a.id)?.identity).toBe(alice);
    expect(logins.lookup(a.login.csrf)).toBeUndefined();
    expect(logins.lookup(`${a.id.slice(0, -1)}x`)).toBeUndefined();
    logins.destroy(a.id);
    expect(logins.lookup(a.id)).toBeUndefined();
    expect(logins.lookup(b.id)).toBeDefined();
  });

  it('expires after the idle time (each lookup renews it) and after the absolute lifetime regardless', () => {
    let now = 0;
    const logins = new UiLogins({ idleMs: 100, maxAgeMs: 250, now: () => now });
    const { id } = logins.create(alice);
    for (now = 90; now <= 240; now += 90) expect(logins.lookup(id)).toBeDefined();
    now = 260;
    expect(logins.lookup(id)).toBeUndefined();
    const idle = logins.create(alice);
    now += 101;
    expect(logins.lookup(idle.id)).toBeUndefined();
    expect(logins.size).toBe(0);
  });

  it('drops the oldest logins beyond its bound', () => {
    const logins = new UiLogins({ maxLogins: 2 });
    const first = logins.create(alice);
    logins.create(alice);
    logins.create(alice);
    expect(logins.size).toBe(2);
    expect(logins.lookup(first.id)).toBeUndefined();
  });

  it('compares tokens exactly', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abd', 'abc')).toBe(false);
    expect(tokensEqual('ab', 'abc')).toBe(false);
    expect(tokensEqual(undefined, 'abc')).toBe(false);
  });
});

describe('cookies', () => {
  it('parses the first well-formed value per name and ignores the rest', () => {
    const cookies = parseCookies('jg_ui=abc_-1; other=x y; jg_ui=second; bad name=1; empty=');
    expect(cookies.get('jg_ui')).toBe('abc_-1');
    expect(cookies.has('other')).toBe(false);
    expect(cookies.get('empty')).toBe('');
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('writes httpOnly, SameSite=Strict, /ui-scoped cookies, Secure over TLS', () => {
    expect(serializeCookie('jg_ui', 'v', { maxAge: 60, secure: false })).toBe('jg_ui=v; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=60');
    expect(serializeCookie('jg_ui', '', { maxAge: 0, secure: true })).toBe('jg_ui=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
    expect(() => serializeCookie('jg_ui', 'a;b', { secure: false })).toThrow();
  });
});
