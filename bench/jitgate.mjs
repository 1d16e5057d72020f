// jitgate as the benchmark runs it: the compiled CLI in a child process (`node bin/jitgate.js serve`) on a generated
// config — builtin broker, audit on (SQLite store and a JSON-lines file, durability os), start sweep off — and a grant
// requested through the HTTP API like any client would.
/* global fetch */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.mjs';

const quote = (text) => JSON.stringify(text);

/**
 * `resource`: { adminUrl, roleStatements }; `nodeArgs`: extra flags for the child's node (e.g. --cpu-prof).
 * Resolves once the API and the Postgres listener answer.
 */
export async function startJitgate({ adminUrl, roleStatements, nodeArgs = [], root }) {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-'));
  const [apiPort, pgPort] = [await freePort(), await freePort()];
  const keys = { admin: randomBytes(18).toString('base64url'), dev: randomBytes(18).toString('base64url') };
  const config = `
listen: { api: "127.0.0.1:${apiPort}", postgres: "127.0.0.1:${pgPort}", mysql: "127.0.0.1:0" }
store: { url: "sqlite:${join(dir, 'jitgate.db')}" }
audit: { file: "${join(dir, 'audit.jsonl')}", durability: os, parameters: full, on_failure: block }
credentials: { sweep_on_start: false }
identities:
  api_keys:
    - { name: admin, key: "${keys.admin}", groups: [admin, dba, auditor] }
    - { name: dev, key: "${keys.dev}", groups: [dev] }
resources:
  - name: bench-pg
    protocol: postgres
    admin_url: ${quote(adminUrl)}
    tls: { mode: disable }
    roles:
      readonly:
        max_ttl: 8h
        creation_statements: [${roleStatements.map(quote).join(', ')}]
policies:
  - { name: bench, resources: [bench-pg], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 8h }
`;
  const configPath = join(dir, 'jitgate.yaml');
  writeFileSync(configPath, config);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'jitgate.js'), 'serve', '--config', configPath], {
    cwd: dir, env: { ...process.env, JITGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk.toString(); });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jitgate did not start within 30 s:\n${stderr}`)), 30_000);
    child.stderr.on('data', () => {
      if (stderr.includes('jitgate: API listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`jitgate exited (${code}) during startup:\n${stderr}`));
    });
  });
  await ready;
  const api = `http://127.0.0.1:${apiPort}`;
  return {
    pgPort, dir,
    async grant(ttl = '2h') {
      const response = await fetch(`${api}/v1/grants`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.dev}` },
        body: JSON.stringify({ resource: 'bench-pg', role: 'readonly', ttl, reason: 'npm run bench' }),
      });
      const body = await response.json();
      if (response.status !== 201) throw new Error(`grant request failed: ${response.status} ${JSON.stringify(body)}`);
      return { id: body.id, token: body.token };
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
