// The local token cache that `jitgate connect` reads: private file modes, XDG location, tidy-up of finished grants.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenCache, tokenCachePath } from '../../src/cli/token-cache.js';

const connection = {
  protocol: 'postgres', host: '127.0.0.1', port: 7432, user: 'g_abcdefghijklmnopqrst', password: 'tok', database: 'postgres',
  url: 'postgres://g_abcdefghijklmnopqrst:tok@127.0.0.1:7432/postgres',
} as const;

const freshPath = (): string => join(mkdtempSync(join(tmpdir(), 'jitgate-cache-')), 'config', 'jitgate', 'grants.json');

describe('tokenCachePath', () => {
  it('follows XDG_CONFIG_HOME when absolute, ~/.config otherwise', () => {
    expect(tokenCachePath({ XDG_CONFIG_HOME: '/x/conf' })).toBe('/x/conf/jitgate/grants.json');
    expect(tokenCachePath({ XDG_CONFIG_HOME: 'relative' })).toBe(join(homedir(), '.config', 'jitgate', 'grants.json'));
    expect(tokenCachePath({})).toBe(join(homedir(), '.config', 'jitgate', 'grants.json'));
  });
});

describe('TokenCache', () => {
  it('remembers a token in a 0600 file inside a 0700 directory', async () => {
    const path = freshPath();
    const cache = new TokenCache(path);
    await cache.remember('g_1', { token: 'tok', connection, resource: 'local-pg' });
    expect(await cache.get('g_1')).toMatchObject({ token: 'tok', connection, resource: 'local-pg' });
    expect(await cache.get('g_2')).toBeUndefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
  });

  it('forgets denied and ended grants only', async () => {
    const cache = new TokenCache(freshPath());
    for (const id of ['g_1', 'g_2', 'g_3']) await cache.remember(id, { token: id, connection });
    const removed = await cache.forgetFinished([{ id: 'g_1', state: 'ended' }, { id: 'g_2', state: 'approved' }, { id: 'g_3', state: 'denied' }, { id: 'g_9', state: 'ended' }]);
    expect(removed).toBe(2);
    expect(Object.keys(JSON.parse(readFileSync(cache.path, 'utf8')).grants as object)).toEqual(['g_2']);
  });

  it('refuses to overwrite a damaged file', async () => {
    const cache = new TokenCache(freshPath());
    await cache.remember('g_1', { token: 't', connection });
    writeFileSync(cache.path, '{"version":1,"grants":');
    await expect(cache.remember('g_2', { token: 't', connection })).rejects.toThrow(/is damaged; fix or remove it/);
    expect(readFileSync(cache.path, 'utf8')).toBe('{"version":1,"grants":');
  });
});
