// Tokens never reach the store, the audit stream or the log in clear (issue 3, line 5), and `jitgate audit verify`
// passes on an untouched chain and names the exact event when one stored byte changes (line 6).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startJitgate } from '../../src/main.js';
import { apiAs } from '../support/api-client.js';
import { testConfigYaml } from '../support/test-config.js';
import { parseConfigText } from '../../src/config/load.js';

const run = promisify(execFile);
const tokens: string[] = [];
let dataDir = '';
let configPath = '';

beforeAll(async () => {
  const generated = testConfigYaml();
  dataDir = generated.dataDir;
  configPath = join(dataDir, 'jitgate.yaml');
  writeFileSync(configPath, generated.yaml);
  const jitgate = await startJitgate(parseConfigText(generated.yaml, { env: {} }), createLogger('debug', join(dataDir, 'jitgate.log')));
  const dev = apiAs(jitgate.apiUrl, 'dev');
  const auto = await dev.post('/v1/grants', { resource: 'orders-pg', role: 'readonly', ttl: '10m', reason: 'INC-7' });
  const pending = await dev.post('/v1/grants', { resource: 'orders-pg', role: 'readwrite', ttl: '10m', reason: 'INC-8' });
  await apiAs(jitgate.apiUrl, 'alice').post(`/v1/grants/${String(pending.body.id)}/approve`, { comment: 'fine' });
  await dev.post(`/v1/grants/${String(auto.body.id)}/revoke`);
  await dev.post('/v1/grants', { resource: 'orders-mysql', role: 'readonly', ttl: '10m' });
  for (const response of [auto, pending]) tokens.push(String(response.body.token));
  expect(tokens.every((token) => token.length === 43)).toBe(true);
  await jitgate.close();
});

afterAll(() => {
  tokens.length = 0;
});

describe('token secrecy', () => {
  it('stores no token in the SQLite files, the audit stream or the operational log', () => {
    const files = readdirSync(dataDir).filter((name) => /jitgate\.db|audit\.jsonl|jitgate\.log/.test(name));
    expect(files).toEqual(expect.arrayContaining(['jitgate.db', 'audit.jsonl', 'jitgate.log']));
    for (const name of files) {
      const bytes = readFileSync(join(dataDir, name));
      for (const token of tokens) {
        expect(bytes.includes(token), `${name} contains a token`).toBe(false);
        expect(bytes.includes(Buffer.from(token, 'base64url').toString('hex')), `${name} contains a token's hex`).toBe(false);
      }
    }
    // The stream really holds the grant events, so the grep above looked at a live trail.
    const stream = readFileSync(join(dataDir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(stream.length).toBeGreaterThanOrEqual(6);
    expect(stream.some((line) => line.includes('"grant.requested"'))).toBe(true);
  });
});

describe('jitgate audit verify', () => {
  const verify = async (): Promise<{ code: number; stdout: string }> => {
    try {
      const { stdout } = await run(process.execPath, ['bin/jitgate.js', 'audit', 'verify', '--config', configPath]);
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout + failed.stderr };
    }
  };

  it('passes on the untouched chain', async () => {
    const result = await verify();
    expect(result.stdout).toMatch(/^audit chain OK: \d+ events, head [0-9a-f]{64}/m);
    expect(result.code).toBe(0);
  });

  it('names the exact event when one byte of its stored body changes', async () => {
    const db = new Database(join(dataDir, 'jitgate.db'));
    const target = db.prepare('SELECT seq, id, body FROM audit_events ORDER BY seq LIMIT 1 OFFSET 2').get() as { seq: number; id: string; body: string };
    const position = target.body.indexOf('INC-');
    const tampered = position >= 0
      ? `${target.body.slice(0, position)}JNC-${target.body.slice(position + 4)}`
      : target.body.replace(/"actor":"(.)/, (_whole, first: string) => `"actor":"${first === 'x' ? 'y' : 'x'}`);
    expect(tampered).not.toBe(target.body);
    expect(tampered.length).toBe(target.body.length);
    db.prepare('UPDATE audit_events SET body = ? WHERE seq = ?').run(tampered, target.seq);
    db.close();

    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`audit chain BROKEN at event #${target.seq} (${target.id})`);
  });
});
