// jitgate as the benchmark runs it: the compiled CLI in a child process (`node bin/jitgate.js serve`) on a generated
// config — builtin broker, audit on (SQLite store and a JSON-lines file, durability os, parameters full), start sweep
// off — with one Postgres or MySQL resource and a grant requested through the HTTP API like any client would.
// The handle exposes the child's pid (CPU and RSS from /proc), its SQLite store (events-lost check) and /metrics.
/* global fetch */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stopChild, tempDir } from './spawn.mjs';

const quote = (text) => JSON.stringify(text);
const RESOURCE = { postgres: 'bench-pg', mysql: 'bench-mysql' };
const GC_HOOK = new URL('./gc-hook.mjs', import.meta.url).href;

/** Prometheus text → { name: value } for the unlabelled samples (the process and heap gauges). */
function parseMetrics(text) {
  const values = {};
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*) (\S+)$/.exec(line);
    if (match) values[match[1]] = Number(match[2]);
  }
  return values;
}

/**
 * `protocol`: postgres | mysql; `adminUrl` and `roleStatements` define the resource's `readonly` role; `nodeArgs`:
 * extra flags for the child's node (e.g. --cpu-prof); `gcHook`: preload gc-hook.mjs so gc() can force a collection.
 * Resolves once the API listens.
 */
export async function startJitgate({ protocol = 'postgres', adminUrl, roleStatements, nodeArgs = [], root, gcHook = false }) {
  const dir = tempDir(protocol === 'postgres' ? 'jitgate-bench-' : 'jitgate-bench-mysql-');
  const [apiPort, port] = [await freePort(), await freePort()];
  const listen = { postgres: protocol === 'postgres' ? port : 0, mysql: protocol === 'mysql' ? port : 0 };
  const keys = { admin: randomBytes(18).toString('base64url'), dev: randomBytes(18).toString('base64url') };
  const storePath = join(dir, 'jitgate.db');
  const resource = RESOURCE[protocol];
  const config = `
listen: { api: "127.0.0.1:${apiPort}", postgres: "127.0.0.1:${listen.postgres}", mysql: "127.0.0.1:${listen.mysql}" }
store: { url: "sqlite:${storePath}" }
audit: { file: "${join(dir, 'audit.jsonl')}", durability: os, parameters: full, on_failure: block }
credentials: { sweep_on_start: false }
identities:
  api_keys:
    - { name: admin, key: "${keys.admin}", groups: [admin, dba, auditor] }
    - { name: dev, key: "${keys.dev}", groups: [dev] }
resources:
  - name: ${resource}
    protocol: ${protocol}
    admin_url: ${quote(adminUrl)}
    tls: { mode: disable }
    roles:
      readonly:
        max_ttl: 8h
        creation_statements: [${roleStatements.map(quote).join(', ')}]
policies:
  - { name: bench, resources: [${resource}], roles: [readonly], requesters: [dev], approval: auto, max_ttl: 8h }
`;
  const configPath = join(dir, 'jitgate.yaml');
  writeFileSync(configPath, config);
  const hook = gcHook ? ['--expose-gc', '--import', GC_HOOK] : [];
  const child = spawn(process.execPath, [...hook, ...nodeArgs, join(root, 'bin', 'jitgate.js'), 'serve', '--config', configPath], {
    cwd: dir, env: { ...process.env, JITGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk.toString(); });
  await new Promise((resolve, reject) => {
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
  const api = `http://127.0.0.1:${apiPort}`;
  return {
    port, pgPort: port, pid: child.pid, dir, storePath,
    async grant(ttl = '2h') {
      const response = await fetch(`${api}/v1/grants`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.dev}` },
        body: JSON.stringify({ resource, role: 'readonly', ttl, reason: 'npm run bench' }),
      });
      const body = await response.json();
      if (response.status !== 201) throw new Error(`grant request failed: ${response.status} ${JSON.stringify(body)}`);
      return { id: body.id, token: body.token };
    },
    /** The unlabelled samples of /metrics, e.g. jitgate_nodejs_heap_size_used_bytes. */
    async metrics() {
      const response = await fetch(`${api}/metrics`);
      if (response.status !== 200) throw new Error(`GET /metrics: ${response.status}`);
      return parseMetrics(await response.text());
    },
    /** A full collection in the child (needs gcHook); resolves when the child reports it done. */
    async gc(timeoutMs = 10_000) {
      if (!gcHook) throw new Error('jitgate started without gcHook');
      const done = (stderr.match(/bench-gc: done/g) ?? []).length;
      child.kill('SIGUSR2');
      const deadline = Date.now() + timeoutMs;
      while ((stderr.match(/bench-gc: done/g) ?? []).length === done) {
        if (Date.now() > deadline) throw new Error('jitgate did not report the forced collection');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
