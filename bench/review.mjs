// Review at scale (issue 8, acceptance 4): seeds a SQLite store with 10k sessions (two statements each) and one open
// session of 100k statements, starts jitgate on it and times the API's list and detail calls, statement search,
// the web UI's two heaviest pages and a full CSV export. Prints a markdown table and writes bench/results/review.json.
// Numbers, not a timed test: the budget (a 100k-statement session opens in < 1 s, lists stay fast) is reported, and
// the script exits 0 either way. `--quick` does fewer repetitions.
//   node bench/review.mjs [--quick]
/* global fetch */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL, URLSearchParams } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SESSIONS = 10_000;
const BIG_STATEMENTS = 100_000;
const GRANTS = 500;
const KEY = 'bench-review-admin-key-000000000001';
const log = (line) => process.stderr.write(`[bench review] ${line}\n`);
const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95), max: sorted.at(-1), runs: sorted.length };
}

async function seed(storeUrl) {
  const [{ openStore }, { canonicalJson }, { linkHash }, ids] = await Promise.all([
    dist('src/store/open.js'), dist('src/audit/canonical.js'), dist('src/audit/chain.js'), dist('src/access/ids.js'),
  ]);
  const store = await openStore(storeUrl);
  const t0 = Date.now() - 30 * 86_400_000;
  const grants = [];
  for (let index = 0; index < GRANTS; index++) {
    const id = ids.newGrantId();
    grants.push(id);
    await store.insertGrant({
      id, resource: index % 4 === 0 ? 'orders-mysql' : 'orders-pg', role: 'readonly', requester: `user${index % 50}`, reason: `INC-${index}`,
      policy: 'bench', state: 'ended', endReason: 'expired', ttlSeconds: 3600, approvalsRequired: 0, approverGroups: [],
      createdAt: new Date(t0 + index * 5_000_000), approvedAt: new Date(t0 + index * 5_000_000), activatedAt: null,
      expiresAt: new Date(t0 + index * 5_000_000 + 3_600_000), endedAt: new Date(t0 + index * 5_000_000 + 3_600_000),
      verifiers: { scramSha256: 'x', sha256Double: 'x', sha1Double: 'x' }, decisions: [], version: 1,
    });
  }
  const sessions = [];
  // Not awaited one by one: the SQLite store group-commits session writes (each waits up to 20 ms for company).
  const inserts = [];
  for (let index = 0; index < SESSIONS; index++) {
    const grantIndex = index % GRANTS;
    const startedAt = new Date(t0 + index * 250_000);
    const session = {
      id: ids.newSessionId(), grantId: grants[grantIndex], resource: grantIndex % 4 === 0 ? 'orders-mysql' : 'orders-pg', role: 'readonly',
      user: `user${grantIndex % 50}`, protocol: grantIndex % 4 === 0 ? 'mysql' : 'postgres', clientAddress: `10.0.${index % 250}.7:5${index % 10000}`,
      clientProgram: 'psql', tls: false, startedAt, endedAt: new Date(startedAt.getTime() + 60_000), endReason: 'client_closed',
      bytesIn: 1_000, bytesOut: 5_000, statements: 2,
    };
    inserts.push(store.insertSession(session));
    sessions.push(session);
  }
  await Promise.all(inserts);
  const big = {
    ...sessions[0], id: ids.newSessionId(), user: 'user0', startedAt: new Date(), endedAt: null, endReason: null, statements: 0,
  };
  await store.insertSession(big);

  let pending = [];
  const flush = async () => {
    if (pending.length > 0) await store.appendAuditEvents(pending, linkHash);
    pending = [];
  };
  const statement = (session, seq, sql, at, extra = {}) => {
    const body = {
      id: ids.newAuditEventId(), ts: new Date(at).toISOString(), type: 'statement', session: session.id, grant: session.grantId, seq,
      kind: 'query', sql, started: new Date(at).toISOString(), duration_us: 80 + (seq % 900), ...extra,
    };
    pending.push({ id: body.id, ts: new Date(at), type: 'statement', grantId: session.grantId, sessionId: session.id, actor: null, body: canonicalJson(body) });
  };
  for (const session of sessions) {
    statement(session, 1, 'select id, status from orders where customer_id = $1', session.startedAt.getTime() + 10, { params: ['42'], rows: 3, tag: 'SELECT 3' });
    statement(session, 2, 'update orders set status = $1 where id = $2', session.startedAt.getTime() + 20, { params: ['shipped', '7'], rows: 1, tag: 'UPDATE 1' });
    if (pending.length >= 5_000) await flush();
  }
  for (let seq = 1; seq <= BIG_STATEMENTS; seq++) {
    const failed = seq % 100 === 0;
    statement(big, seq, `select * from line_items where order_id = ${seq} /* batch ${Math.floor(seq / 1000)} */`, big.startedAt.getTime() + seq,
      failed ? { error: { code: '40001', message: 'could not serialize access' } } : { rows: seq % 7, tag: `SELECT ${seq % 7}` });
    if (pending.length >= 5_000) await flush();
  }
  await flush();
  await store.close();
  return { big, sessions };
}

async function measure(name, runs, call) {
  await call(); // warm: the first request pays for statement compilation and the page cache
  const samples = [];
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    bytes = await call();
    samples.push(performance.now() - started);
  }
  const result = { name, ...stats(samples), bytes };
  log(`${name}: median ${result.median.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms`);
  return result;
}

export async function benchReview({ quick = false } = {}) {
  execFileSync(process.execPath, [join(root, 'scripts', 'ensure-built.mjs')], { cwd: root, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-review-'));
  const storeUrl = `sqlite:${join(dir, 'jitgate.db')}`;
  try {
    const seedStarted = performance.now();
    const { big, sessions } = await seed(storeUrl);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(`seeded ${SESSIONS} sessions, ${SESSIONS * 2 + BIG_STATEMENTS} statements in ${seedSeconds.toFixed(1)} s`);

    const [{ parseConfigText }, { startJitgate }, { createLogger }] = await Promise.all([
      dist('src/config/load.js'), dist('src/main.js'), dist('src/log.js'),
    ]);
    const config = parseConfigText(`
listen: { api: "127.0.0.1:0", postgres: "127.0.0.1:0", mysql: "127.0.0.1:0" }
store: { url: "${storeUrl}" }
audit: { file: "${join(dir, 'audit.jsonl')}" }
credentials: { sweep_on_start: false }
identities: { api_keys: [ { name: admin, key: "${KEY}", groups: [admin, dba, auditor] } ] }
`, { env: {} });
    const handle = await startJitgate(config, createLogger('silent'));
    const runs = quick ? 10 : 40;
    const get = async (path, headers = {}) => {
      const response = await fetch(`${handle.apiUrl}${path}`, { headers: { authorization: `Bearer ${KEY}`, ...headers } });
      const body = await response.arrayBuffer();
      if (!response.ok) throw new Error(`${path}: ${response.status} ${Buffer.from(body).toString().slice(0, 200)}`);
      return body.byteLength;
    };
    const json = async (path) => JSON.parse(await (await fetch(`${handle.apiUrl}${path}`, { headers: { authorization: `Bearer ${KEY}` } })).text());

    // A cursor ~9,000 sessions deep, walked once: keyset pages must cost the same there as on page one.
    let cursor = null;
    for (let page = 0; page < 90; page++) cursor = (await json(`/v1/sessions?limit=100${cursor ? `&cursor=${cursor}` : ''}`)).next;
    const middle = (await json(`/v1/sessions/${big.id}?after=${50_000}&limit=1`)).statements[0]?.chainSeq ?? 0;
    const ui = await signIn(handle.apiUrl);
    const results = [
      await measure('GET /v1/sessions (first page of 100)', runs, () => get('/v1/sessions?limit=100')),
      await measure('GET /v1/sessions (page 91, keyset cursor)', runs, () => get(`/v1/sessions?limit=100&cursor=${cursor}`)),
      await measure('GET /v1/sessions?user=… (filtered)', runs, () => get('/v1/sessions?limit=100&user=user7')),
      await measure('GET /v1/sessions?resource=…&since=… ', runs, () => get(`/v1/sessions?limit=100&resource=orders-mysql&since=${encodeURIComponent(sessions[5000].startedAt.toISOString())}`)),
      await measure('GET /v1/sessions?active=true', runs, () => get('/v1/sessions?limit=100&active=true')),
      await measure('GET /v1/sessions/:id (100k, first 500)', runs, () => get(`/v1/sessions/${big.id}?limit=500`)),
      await measure('GET /v1/sessions/:id (100k, middle 500)', runs, () => get(`/v1/sessions/${big.id}?after=${middle}&limit=500`)),
      await measure('GET /v1/sessions/:id (100k, last 500)', runs, () => get(`/v1/sessions/${big.id}?last=true&limit=500`)),
      await measure('GET /v1/sessions/:id (100k, errors only, 500)', runs, () => get(`/v1/sessions/${big.id}?errors=true&limit=500`)),
      await measure('GET /v1/statements?q= (rare text, whole trail)', Math.max(3, runs / 4), () => get('/v1/statements?q=order_id%20%3D%2099999%20&limit=100')),
      await measure('GET /v1/statements?q= (common text, first 100)', runs, () => get('/v1/statements?q=line_items&limit=100')),
      await measure('GET /ui/sessions (page of 100)', runs, () => get('/ui/sessions', { cookie: ui })),
      await measure('GET /ui/sessions/:id (100k, first 200 rendered)', runs, () => get(`/ui/sessions/${big.id}`, { cookie: ui })),
      await measure('GET /ui/sessions/:id?last=1 (100k, newest 200)', runs, () => get(`/ui/sessions/${big.id}?last=1`, { cookie: ui })),
      await measure('GET /v1/sessions/:id/export?format=csv (100k)', quick ? 1 : 3, () => get(`/v1/sessions/${big.id}/export?format=csv`)),
    ];
    await handle.close();
    return { machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version }, seedSeconds, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signIn(apiUrl) {
  const form = await fetch(`${apiUrl}/ui/login`);
  const loginCookie = (form.headers.getSetCookie()[0] ?? '').split(';')[0];
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${apiUrl}/ui/login`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
    body: new URLSearchParams({ api_key: KEY, _csrf: csrf }).toString(),
  });
  return (response.headers.getSetCookie().find((line) => line.startsWith('jg_ui=')) ?? '').split(';')[0];
}

export function reviewTable({ results }) {
  const lines = ['| call | median ms | p95 ms | max ms | response |', '|---|---:|---:|---:|---:|'];
  for (const r of results) {
    lines.push(`| ${r.name} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${(r.bytes / 1024).toFixed(0)} KiB |`);
  }
  return lines.join('\n');
}

/** The budget of issue 8: the 100k session opens (any page, UI or API) in < 1 s; list pages in < 100 ms. */
export function reviewBudget({ results }) {
  return results.filter((r) => !r.name.includes('export') && !r.name.includes('statements?q')).map((r) => {
    const limit = r.name.includes(':id') ? 1_000 : 100;
    return { check: `${r.name} p95 < ${limit} ms`, ok: r.p95 < limit, value: `${r.p95.toFixed(1)} ms` };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await benchReview({ quick: process.argv.includes('--quick') });
  const budget = reviewBudget(report);
  const text = [
    `## Review: ${SESSIONS} sessions, one of ${BIG_STATEMENTS} statements (SQLite, ${report.machine.cpus} CPUs, node ${report.machine.node})`,
    '', `Seeding took ${report.seedSeconds.toFixed(1)} s.`, '', reviewTable(report), '',
    ...budget.map((b) => `- ${b.ok ? 'OK  ' : 'OVER'} ${b.check}: ${b.value}`),
  ].join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'review.json'), `${JSON.stringify({ ...report, budget }, null, 2)}\n`);
}
