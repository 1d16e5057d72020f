// The Postgres section of `npm run bench` (DESIGN §8): pgbench -S against PostgreSQL directly, through pgbouncer
// (session pooling, SCRAM) and through jitgate (grant login, lease user, audit on) — 1 and 16 clients, simple and
// extended protocol, connection per transaction — then COPY-out throughput and memory per idle session. Every target
// logs in as a user with the same privileges. Two diagnostic targets split the cost: the engine with its audit stubbed
// (relay-only.mjs) and a bare Node pipe (node-pipe.mjs). Per jitgate run: its CPU per transaction (/proc) and the statement
// events it stored against the transactions pgbench counted.
import pg from 'pg';
import { openEventCounter, eventCheck } from './events.mjs';
import { idleSessions, jitgateMemory, processMemory } from './idle-sessions.mjs';
import { startJitgate } from './jitgate.mjs';
import { copyOut, copyRows } from './pg-copy.mjs';
import { findPgbench, findPgTool, PGBENCH_SELECT, pgbenchInit, pgbenchRun } from './pgbench.mjs';
import { cpuMeter } from './proc.mjs';
import { startNodePipe } from './node-pipe.mjs';
import { startRelayOnly } from './relay-only.mjs';
import { startPgbouncer, startPostgres } from './servers.mjs';

const SCALE = 10;
const DATABASE = 'bench';
const TABLES = 'pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history';
/** The lease user's privileges; the direct and pgbouncer targets log in as a role made from the same statements. */
const ROLE_STATEMENTS = [
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
  `GRANT SELECT ON ${TABLES} TO "{{name}}"`,
];

/** Not a jitgate configuration: excluded from the budget verdicts, shown to split relay cost from audit cost. */
export const RELAY_ONLY = 'jitgate engine, audit stubbed (diagnostic)';
/** The floor for any relay written in Node here (node-pipe.mjs): what the bars are against before jitgate does anything. */
export const NODE_PIPE = 'bare Node pipe (diagnostic)';

export const SCENARIOS = [
  { name: 'select-only, 1 client', clients: 1, threads: 1 },
  { name: 'select-only, 16 clients', clients: 16, threads: 2 },
  { name: 'select-only extended protocol, 16 clients', clients: 16, threads: 2, protocol: 'extended' },
  { name: 'connect per transaction, 4 clients', clients: 4, threads: 2, connect: true },
];
const [ONE, SIXTEEN, EXTENDED, CONNECT] = SCENARIOS.map((scenario) => scenario.name);

async function admin(url, statements) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

function render(statements, values) {
  return statements.map((statement) => statement.replace(/\{\{(\w+)\}\}/g, (_, key) => values[key]));
}

const dbUrl = (server, database) => `postgres://postgres:${server.password}@127.0.0.1:${server.port}/${database}`;

/**
 * Runs the section; `quick` shrinks COPY (≈ 100 MB instead of ≈ 1 GB) and the idle sessions (200 instead of 2000).
 * Returns { scale, targets, results, copy, idle, auditCpuUs, notes } for the report.
 */
export async function benchPostgres({ seconds, quick = false, root, profileDir, log }) {
  const notes = [];
  const server = await startPostgres();
  const stops = [() => server.stop()];
  try {
    const pgbench = findPgbench(server.bin);
    const psql = findPgTool(server.bin, 'psql');
    if (pgbench === undefined || psql === undefined) throw new Error('pgbench or psql not found');
    await admin(server.adminUrl, [`create database ${DATABASE}`]);
    log(`PostgreSQL on ${server.port}; pgbench -i -s ${SCALE} …`);
    await pgbenchInit(pgbench, { host: '127.0.0.1', port: server.port, user: 'postgres', password: server.password, database: DATABASE }, SCALE);
    const direct = { name: 'direct', host: '127.0.0.1', port: server.port, user: 'bench_direct', password: 'benchdirect0000pw', database: DATABASE };
    await admin(dbUrl(server, DATABASE), render(ROLE_STATEMENTS, { name: direct.user, password: direct.password, expiration: 'infinity' }));
    const targets = [direct];

    const bouncer = await startPgbouncer(server.port, DATABASE, { [direct.user]: direct.password }).catch((error) => {
      notes.push(`pgbouncer failed to start: ${error.message}`);
      return undefined;
    });
    if (bouncer) {
      stops.push(() => bouncer.stop());
      targets.push({ ...direct, name: `pgbouncer ${bouncer.version} (session)`, port: bouncer.port, pid: bouncer.pid, peer: true });
    } else if (notes.length === 0) {
      notes.push('pgbouncer is not installed (apt-get install pgbouncer): no pgbouncer baseline');
    }

    const jitgate = await startJitgate({
      adminUrl: dbUrl(server, DATABASE), roleStatements: ROLE_STATEMENTS, root,
      nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    stops.push(() => jitgate.stop());
    const grant = await jitgate.grant();
    const gate = { name: 'jitgate', host: '127.0.0.1', port: jitgate.port, user: grant.id, password: grant.token, database: DATABASE, pid: jitgate.pid };
    targets.push(gate);
    // Diagnostic: the same engine with the audit trail, store and broker stubbed out, in this process.
    const relay = await startRelayOnly({ root, host: '127.0.0.1', port: server.port, database: DATABASE, user: direct.user, password: direct.password });
    stops.push(() => relay.stop());
    targets.push({ name: RELAY_ONLY, host: '127.0.0.1', port: relay.port, user: relay.user, password: relay.password, database: DATABASE, pid: relay.pid });
    const pipe = await startNodePipe(server.port);
    stops.push(() => pipe.stop());
    targets.push({ ...direct, name: NODE_PIPE, port: pipe.port, pid: pipe.pid });

    // Warm-up: the lease is issued at jitgate's first login; caches, JIT and pools settle on every target.
    for (const target of targets) await pgbenchRun(pgbench, target, { clients: 4, threads: 2, seconds: 2 });

    const counter = openEventCounter(jitgate.storePath);
    stops.push(async () => counter.close());
    const results = [];
    for (const scenario of SCENARIOS) {
      for (const target of targets) {
        const since = target === gate ? await counter.settle() : 0;
        const cpu = cpuMeter(target.pid);
        const run = await pgbenchRun(pgbench, target, { ...scenario, seconds });
        const cpuSeconds = target.pid === undefined ? null : cpu();
        const result = { scenario: scenario.name, target: target.name, ...run, proxyCpuUsPerTx: cpuSeconds === null ? null : (cpuSeconds * 1e6) / run.transactions };
        if (target === gate) result.audit = eventCheck(run.transactions, (await counter.countSince(since, PGBENCH_SELECT)).events);
        results.push(result);
        log(`${scenario.name.padEnd(44)} ${target.name.padEnd(28)} ${run.tps.toFixed(0).padStart(8)} tps  ${run.latencyMs.toFixed(3)} ms`
          + `${result.audit ? `  events ${result.audit.events}/${result.audit.transactions}` : ''}`);
      }
    }
    const find = (name) => results.find((result) => result.scenario === SIXTEEN && result.target === name);
    const auditCpuUs = find('jitgate') && find(RELAY_ONLY) ? find('jitgate').proxyCpuUsPerTx - find(RELAY_ONLY).proxyCpuUsPerTx : null;

    const rows = copyRows(quick ? 100 : 1000);
    log(`COPY out: ${rows} rows per run …`);
    const copy = [];
    for (const target of targets) {
      const measured = await copyOut(psql, target, { rows, pid: target.pid });
      copy.push({ target: target.name, peer: Boolean(target.peer), ...measured });
      log(`COPY out ${target.name.padEnd(28)} ${measured.mbPerSecond.toFixed(0).padStart(6)} MB/s`);
    }

    const sessions = quick ? 200 : 2000;
    const idle = [];
    log(`${sessions} idle sessions through jitgate${bouncer ? ' and pgbouncer' : ''} …`);
    // A fresh jitgate: memory the load runs above left behind (allocator arenas, grown heap) would hide the sessions' own.
    const fresh = await startJitgate({ adminUrl: dbUrl(server, DATABASE), roleStatements: ROLE_STATEMENTS, root, gcHook: true });
    stops.push(() => fresh.stop());
    const freshGrant = await fresh.grant();
    const freshTarget = { ...gate, port: fresh.port, user: freshGrant.id, password: freshGrant.token, pid: fresh.pid };
    idle.push({ target: 'jitgate', ...await idleSessions({ connection: freshTarget, count: sessions, memory: jitgateMemory(fresh) }) });
    const bouncerTarget = targets.find((target) => target.peer);
    if (bouncerTarget) idle.push({ target: bouncerTarget.name, ...await idleSessions({ connection: bouncerTarget, count: sessions, memory: processMemory(bouncer.pid) }) });
    return { scale: SCALE, targets: targets.map((target) => target.name), results, auditCpuUs, copy, idle, notes };
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error) => notes.push(`stop failed: ${error.message}`));
  }
}

const ratio = (value, base) => (value !== undefined && value !== null && base ? (value / base).toFixed(2) : '–');
const fixed = (value, digits = 1) => (value === null || value === undefined ? '–' : value.toFixed(digits));
const isPeer = (name) => /^pgbouncer/.test(name);

/** The pgbench table: TPS and latency, as ratios to direct and to pgbouncer, proxy CPU per transaction, audit events. */
export function postgresTable({ results }) {
  const lines = ['| scenario | target | TPS | mean latency (ms) | TPS ÷ direct | latency ÷ direct | TPS ÷ pgbouncer | proxy CPU µs/tx | statement events (tx / events / lost) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|'];
  for (const result of results) {
    const same = results.filter((other) => other.scenario === result.scenario);
    const direct = same.find((other) => other.target === 'direct');
    const peer = same.find((other) => isPeer(other.target));
    const audit = result.audit ? `${result.audit.transactions} / ${result.audit.events} / ${result.audit.lost}` : '–';
    lines.push(`| ${result.scenario} | ${result.target} | ${result.tps.toFixed(0)} | ${result.latencyMs.toFixed(3)} | `
      + `${ratio(result.tps, direct?.tps)} | ${ratio(result.latencyMs, direct?.latencyMs)} | ${ratio(result.tps, peer?.tps)} | `
      + `${fixed(result.proxyCpuUsPerTx)} | ${audit} |`);
  }
  return lines.join('\n');
}

export function copyTable({ copy }) {
  const direct = copy.find((row) => row.target === 'direct');
  const peer = copy.find((row) => row.peer);
  const lines = ['| target | MB/s | ÷ direct | ÷ pgbouncer | proxy CPU µs/MB | runs (MB/s) |', '|---|---:|---:|---:|---:|---|'];
  for (const row of copy) {
    lines.push(`| ${row.target} | ${row.mbPerSecond.toFixed(0)} | ${ratio(row.mbPerSecond, direct?.mbPerSecond)} | ${ratio(row.mbPerSecond, peer?.mbPerSecond)} | `
      + `${fixed(row.proxyCpuUsPerMb, 0)} | ${row.samples.map((sample) => sample.mbPerSecond.toFixed(0)).join(', ')} |`);
  }
  return lines.join('\n');
}

export function idleTable({ idle }) {
  const mb = (bytes) => (bytes === undefined ? '–' : (bytes / 1048576).toFixed(1));
  const lines = ['| target | sessions | opened in (s) | heap MB before → after | KB heap / session | KB external / session | RSS MB before → after | KB RSS / session |',
    '|---|---:|---:|---|---:|---:|---|---:|'];
  for (const row of idle) {
    const { before, after, perSession } = row;
    lines.push(`| ${row.target} | ${row.sessions} | ${row.openSeconds.toFixed(1)} | ${before.heap === undefined ? '–' : `${mb(before.heap)} → ${mb(after.heap)}`} | `
      + `${fixed(perSession.heapKb)} | ${fixed(perSession.externalKb)} | ${mb(before.rss)} → ${mb(after.rss)} | ${fixed(perSession.rssKb)} |`);
  }
  return lines.join('\n');
}

/** A verdict; `met: null` when a figure or its baseline is missing (reported, never judged). */
const verdict = (bar, met, value) => ({ bar, met, value });

/** DESIGN §8's Postgres bars, judged from the results; values name the ratio to direct and to pgbouncer. */
export function postgresBudget({ results, copy, idle, auditCpuUs }) {
  const find = (scenario, match) => results.find((result) => result.scenario === scenario && match(result.target));
  const both = (scenario, key) => {
    const [direct, peer, gate] = [find(scenario, (name) => name === 'direct'), find(scenario, isPeer), find(scenario, (name) => name === 'jitgate')];
    const pipe = find(scenario, (name) => name === NODE_PIPE);
    // The floor beside each verdict: where a bare Node pipe already misses a bar, no Node relay can meet it here.
    const floor = pipe ? ` (bare Node pipe: ${ratio(pipe[key], direct?.[key])}× direct, ${ratio(pipe[key], peer?.[key])}× pgbouncer)` : '';
    return { gate, peer, text: `${ratio(gate?.[key], direct?.[key])}× direct, ${ratio(gate?.[key], peer?.[key])}× pgbouncer${floor}` };
  };
  const throughput = (bar, scenario) => {
    const { gate, peer, text } = both(scenario, 'tps');
    return verdict(bar, gate && peer ? gate.tps >= peer.tps : null, `${fixed(gate?.tps, 0)} TPS: ${text}`);
  };
  const one = both(ONE, 'latencyMs');
  const d1 = find(ONE, (name) => name === 'direct');
  const [copyDirect, copyPeer, copyGate] = [copy.find((row) => row.target === 'direct'), copy.find((row) => row.peer), copy.find((row) => row.target === 'jitgate')];
  const idleGate = idle.find((row) => row.target === 'jitgate');
  return [
    verdict('PG 1-client latency ≤ 1.20× direct', one.gate && d1 ? one.gate.latencyMs <= 1.2 * d1.latencyMs : null, `${fixed(one.gate?.latencyMs, 3)} ms: ${one.text}`),
    throughput('PG 16 clients, simple protocol ≥ 1.0× pgbouncer TPS', SIXTEEN),
    throughput('PG 16 clients, extended protocol ≥ 1.0× pgbouncer TPS', EXTENDED),
    verdict('PG COPY out ≥ 0.95× direct', copyGate && copyDirect ? copyGate.mbPerSecond >= 0.95 * copyDirect.mbPerSecond : null,
      `${fixed(copyGate?.mbPerSecond, 0)} MB/s: ${ratio(copyGate?.mbPerSecond, copyDirect?.mbPerSecond)}× direct, ${ratio(copyGate?.mbPerSecond, copyPeer?.mbPerSecond)}× pgbouncer`),
    throughput('PG pgbench -C (connection per transaction) rate ≥ 1.0× pgbouncer', CONNECT),
    verdict('≤ 12 KB heap per idle session', idleGate ? idleGate.perSession.heapKb <= 12 : null,
      `${fixed(idleGate?.perSession.heapKb)} KB heap, ${fixed(idleGate?.perSession.rssKb)} KB RSS per session (pgbouncer: `
      + `${fixed(idle.find((row) => row.target !== 'jitgate')?.perSession.rssKb)} KB RSS) over ${idleGate?.sessions ?? '–'} sessions`),
    verdict('audit ≤ 2 µs CPU per statement (jitgate − audit stubbed, PG 16 clients)', auditCpuUs === null ? null : auditCpuUs <= 2, `${fixed(auditCpuUs)} µs`),
  ];
}

/** Every jitgate run's event check, for the run-wide "events lost = 0" bar. */
export const postgresEventChecks = ({ results }) => results.filter((result) => result.audit).map((result) => ({ run: `PG ${result.scenario}`, ...result.audit }));
