// The MySQL section of `npm run bench` (DESIGN §8): sysbench oltp_point_select against a throwaway MariaDB — directly,
// through haproxy (`mode tcp`, the baseline) and through jitgate (audit on, every statement an event) — with 1 and 16
// threads. sysbench uses server-side prepared statements by default (--db-ps-mode=auto): each transaction is one
// COM_STMT_EXECUTE, the path whose parameters jitgate's tap decodes. Bars: 16 threads through jitgate ≥ 1.05× haproxy's
// TPS; 1-thread latency through jitgate ≤ 1.25× direct; connect+auth+query+close rate ≥ haproxy's (mysql-connect.mjs).
// Two diagnostic rows split jitgate's cost: "jitgate relay only" (the engine with its audit trail stubbed,
// relay-only.mjs) and "node pipe" (a bare Node byte pipe: the floor for a relay written in Node on this machine).
// Each jitgate run's statement events are counted in its store against sysbench's transactions (events.mjs).
//
// From run.mjs:  import { benchMysql, mysqlBudget, mysqlTable } from './mysql.mjs';
//                const mysql = await benchMysql({ seconds, root, log, profileDir });  → mysqlTable(mysql), mysqlBudget(mysql)
// Alone:         node bench/mysql.mjs [--quick]   (prints the table, writes bench/results/mysql-<time>.json)
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventCheck, openEventCounter } from './events.mjs';
import { startJitgate } from './jitgate.mjs';
import { connectLoop } from './mysql-connect.mjs';
import { mariadbAdmin, startHaproxy, startMariadb } from './mysql-servers.mjs';
import { startNodePipe } from './node-pipe.mjs';
import { cpuSeconds } from './proc.mjs';
import { startMysqlRelayOnly } from './relay-only.mjs';
import { findExecutable } from './spawn.mjs';

const TABLES = 1;
const TABLE_SIZE = 100_000;
const THREADS = [1, 16];
const DATABASE = 'sbtest';
/** sysbench's point select as prepared (`?` for the id); a prefix, in case the event spells the placeholder otherwise. */
const POINT_SELECT = 'SELECT c FROM sbtest1 WHERE id=';
const CONNECT_LOOPS = 4;

function sysbench(args) {
  return new Promise((resolve, reject) => {
    execFile('sysbench', ['oltp_point_select', '--db-driver=mysql', `--tables=${TABLES}`, `--table-size=${TABLE_SIZE}`, ...args],
      { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`sysbench ${args.at(-1)} failed: ${(stderr || stdout).trim().slice(-2000)}`));
        else resolve(stdout);
      });
  });
}

const connectionArgs = ({ port, user, password }) => [
  '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${user}`, `--mysql-password=${password}`, `--mysql-db=${DATABASE}`,
  '--mysql-ssl=off',
];

/** transactions/s, queries/s, latency avg and p95 (ms) from sysbench's summary. */
export function parseSysbench(output) {
  const number = (pattern) => {
    const match = pattern.exec(output);
    if (!match) throw new Error(`sysbench output without ${pattern}:\n${output.slice(-1500)}`);
    return Number(match[1]);
  };
  return {
    transactions: number(/transactions:\s+(\d+)\s+\(/),
    queries: number(/queries:\s+(\d+)\s+\(/),
    tps: number(/transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/),
    qps: number(/queries:\s+\d+\s+\(([\d.]+) per sec\.\)/),
    latencyAvgMs: number(/avg:\s+([\d.]+)/),
    latencyP95Ms: number(/95th percentile:\s+([\d.]+)/),
    errors: number(/ignored errors:\s+(\d+)/),
  };
}

/**
 * Runs the section; `log` gets progress lines; with `profileDir`, jitgate runs under `node --cpu-prof` and leaves its
 * .cpuprofile there. Resolves with the measurements (see mysqlTable).
 */
export async function benchMysql({ seconds, root, log = () => {}, profileDir }) {
  if (!findExecutable('sysbench')) throw new Error('the MySQL benchmark needs sysbench (apt-get install -y sysbench)');
  const notes = [];
  const server = await startMariadb();
  const stops = [() => server.stop()];
  try {
    const password = 'sb-direct-password';
    await mariadbAdmin(server, `create database ${DATABASE}; create user 'sb'@'%' identified by '${password}';`
      + ` grant all on ${DATABASE}.* to 'sb'@'%';`);
    const direct = { port: server.port, user: 'sb', password };
    log(`mysql: preparing sysbench oltp_point_select, ${TABLES} table × ${TABLE_SIZE} rows`);
    await sysbench([...connectionArgs(direct), 'prepare']);

    const haproxy = await startHaproxy(server.port);
    if (haproxy) stops.unshift(() => haproxy.stop());
    else notes.push('haproxy is not installed: no baseline for the 16-thread bar');
    const jitgate = await startJitgate({
      protocol: 'mysql', root, adminUrl: server.adminUrl(DATABASE), nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      roleStatements: ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'", `GRANT SELECT ON ${DATABASE}.* TO '{{name}}'@'%'`],
    });
    stops.unshift(() => jitgate.stop());
    const grant = await jitgate.grant();
    const relayOnly = await startMysqlRelayOnly({ root, host: '127.0.0.1', port: server.port, database: DATABASE, user: 'sb', password });
    stops.unshift(() => relayOnly.stop());
    const pipe = await startNodePipe(server.port);
    stops.unshift(() => pipe.stop());

    const targets = [
      { name: 'direct', endpoint: direct, pid: undefined },
      ...(haproxy ? [{ name: 'haproxy', endpoint: { ...direct, port: haproxy.port }, pid: haproxy.pid }] : []),
      { name: 'jitgate', endpoint: { port: jitgate.port, user: grant.id, password: grant.token }, pid: jitgate.pid },
      // Diagnostic: the engine in this process with the audit trail stubbed out (see relay-only.mjs).
      { name: 'jitgate relay only', endpoint: { port: relayOnly.port, user: relayOnly.user, password: relayOnly.password }, pid: relayOnly.pid },
      // Diagnostic: a bare Node byte pipe, the floor for any relay written in Node on this machine.
      { name: 'node pipe', endpoint: { ...direct, port: pipe.port }, pid: pipe.pid },
    ];
    // Warm the buffer pool and each path (jitgate: the lease user is created at the first connection).
    for (const target of targets) await sysbench([...connectionArgs(target.endpoint), '--threads=4', '--time=2', 'run']);

    const counter = openEventCounter(jitgate.storePath);
    stops.unshift(async () => counter.close());
    const runs = [];
    for (const threads of THREADS) {
      for (const target of targets) {
        log(`mysql: ${target.name}, ${threads} thread${threads === 1 ? '' : 's'}, ${seconds} s`);
        const since = target.name === 'jitgate' ? await counter.settle() : 0;
        const [proxyBefore, dbBefore] = [cpuSeconds(target.pid), cpuSeconds(server.pid)];
        const measured = parseSysbench(await sysbench([...connectionArgs(target.endpoint), `--threads=${threads}`, `--time=${seconds}`,
          '--report-interval=0', 'run']));
        const proxyCpu = cpuSeconds(target.pid) - proxyBefore;
        const dbCpu = cpuSeconds(server.pid) - dbBefore;
        const run = {
          target: target.name, threads, ...measured,
          proxyCpuPercent: target.pid === undefined ? null : Math.round((proxyCpu / seconds) * 100),
          proxyCpuUsPerQuery: target.pid === undefined ? null : (proxyCpu * 1e6) / measured.queries,
          databaseCpuPercent: Math.round((dbCpu / seconds) * 100),
        };
        // One point select (a COM_STMT_EXECUTE) per transaction; its event holds the prepared text.
        if (target.name === 'jitgate') run.audit = eventCheck(measured.transactions, (await counter.countSince(since, POINT_SELECT)).events);
        runs.push(run);
      }
    }

    // Connection setup: direct, the proxies and the bare Node pipe (its floor); the stubbed engine has no login to measure.
    const connects = [];
    for (const target of targets.filter((candidate) => ['direct', 'haproxy', 'jitgate', 'node pipe'].includes(candidate.name))) {
      // The pipe runs in this process, with the loop's mysql2 clients: its CPU would count the load tool's too.
      const pid = target.name === 'node pipe' ? undefined : target.pid;
      const measured = await connectLoop({ endpoint: target.endpoint, database: DATABASE, seconds, loops: CONNECT_LOOPS, pid });
      connects.push({ target: target.name, ...measured });
      log(`mysql: connect+auth+query+close ${target.name.padEnd(8)} ${measured.perSecond.toFixed(0)} /s`);
    }
    return { tables: TABLES, tableSize: TABLE_SIZE, seconds, runs, connects, notes };
  } finally {
    for (const stop of stops) await stop().catch((error) => log(`mysql: cleanup failed: ${error.message}`));
  }
}

const find = (result, target, threads) => result.runs.find((run) => run.target === target && run.threads === threads);
const ratio = (value, base) => (value !== undefined && base ? (value / base).toFixed(2) : '–');

export function mysqlTable(result) {
  const rows = result.runs.map((run) => {
    const [direct, peer] = [find(result, 'direct', run.threads), find(result, 'haproxy', run.threads)];
    const cpu = run.proxyCpuPercent === null ? '–' : `${run.proxyCpuPercent}% (${run.proxyCpuUsPerQuery.toFixed(1)} µs/tx)`;
    const audit = run.audit ? `${run.audit.transactions} / ${run.audit.events} / ${run.audit.lost}` : '–';
    return `| ${run.target} | ${run.threads} | ${run.tps.toFixed(0)} | ${ratio(run.tps, direct?.tps)} | ${ratio(run.tps, peer?.tps)} `
      + `| ${run.latencyAvgMs.toFixed(3)} | ${ratio(run.latencyAvgMs, direct?.latencyAvgMs)} | ${run.latencyP95Ms.toFixed(3)} | ${cpu} `
      + `| ${run.databaseCpuPercent}% | ${audit} |`;
  });
  return [
    '| target | threads | TPS | TPS ÷ direct | TPS ÷ haproxy | latency avg ms | ÷ direct | p95 ms | proxy CPU | mariadbd CPU | statement events (tx / events / lost) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|',
    ...rows,
  ].join('\n');
}

export function mysqlConnectTable({ connects }) {
  const [direct, peer] = ['direct', 'haproxy'].map((name) => connects.find((row) => row.target === name));
  return [
    `| target | loops | connections/s | ÷ direct | ÷ haproxy | proxy CPU µs/connection |`, '|---|---:|---:|---:|---:|---:|',
    ...connects.map((row) => `| ${row.target} | ${row.loops} | ${row.perSecond.toFixed(0)} | ${ratio(row.perSecond, direct?.perSecond)} | `
      + `${ratio(row.perSecond, peer?.perSecond)} | ${row.proxyCpuUsPerConnection === null ? '–' : row.proxyCpuUsPerConnection.toFixed(0)} |`),
  ].join('\n');
}

/** DESIGN §8's MariaDB bars, each { bar, value, met }; met is null when the baseline is missing. */
export function mysqlBudget(result) {
  const [jitgate16, haproxy16, direct16] = ['jitgate', 'haproxy', 'direct'].map((name) => find(result, name, 16));
  const [jitgate1, haproxy1, direct1] = ['jitgate', 'haproxy', 'direct'].map((name) => find(result, name, 1));
  const [connGate, connPeer, connDirect] = ['jitgate', 'haproxy', 'direct'].map((name) => result.connects.find((row) => row.target === name));
  const judged = (ok, ...needed) => (needed.every(Boolean) ? ok() : null);
  // The floor beside each verdict: where a bare Node pipe already misses a bar, no Node relay can meet it here.
  const floor = (pipe, key, direct, peer) => (pipe ? ` (node pipe: ${ratio(pipe[key], direct?.[key])}× direct, ${ratio(pipe[key], peer?.[key])}× haproxy)` : '');
  const [pipe1, pipe16] = [find(result, 'node pipe', 1), find(result, 'node pipe', 16)];
  const pipeConnect = result.connects.find((row) => row.target === 'node pipe');
  return [
    { bar: 'MariaDB 1-thread latency ≤ 1.25× direct', met: judged(() => jitgate1.latencyAvgMs <= 1.25 * direct1.latencyAvgMs, jitgate1, direct1),
      value: `${jitgate1?.latencyAvgMs.toFixed(3) ?? '–'} ms: ${ratio(jitgate1?.latencyAvgMs, direct1?.latencyAvgMs)}× direct, ${ratio(jitgate1?.latencyAvgMs, haproxy1?.latencyAvgMs)}× haproxy${floor(pipe1, 'latencyAvgMs', direct1, haproxy1)}` },
    { bar: 'MariaDB 16 threads ≥ 1.05× haproxy TPS', met: judged(() => jitgate16.tps >= 1.05 * haproxy16.tps, jitgate16, haproxy16),
      value: `${jitgate16?.tps.toFixed(0) ?? '–'} TPS: ${ratio(jitgate16?.tps, direct16?.tps)}× direct, ${ratio(jitgate16?.tps, haproxy16?.tps)}× haproxy${floor(pipe16, 'tps', direct16, haproxy16)}` },
    { bar: 'MariaDB connect+auth+query+close rate ≥ haproxy', met: judged(() => connGate.perSecond >= connPeer.perSecond, connGate, connPeer),
      value: `${connGate?.perSecond.toFixed(0) ?? '–'} /s: ${ratio(connGate?.perSecond, connDirect?.perSecond)}× direct, ${ratio(connGate?.perSecond, connPeer?.perSecond)}× haproxy${floor(pipeConnect, 'perSecond', connDirect, connPeer)}` },
  ];
}

/** Every jitgate run's event check, for the run-wide "events lost = 0" bar. */
export const mysqlEventChecks = ({ runs }) => runs.filter((run) => run.audit).map((run) => ({ run: `MariaDB ${run.threads} thread(s)`, ...run.audit }));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const quick = process.argv.includes('--quick');
  const seconds = quick ? 5 : 15;
  const log = (line) => process.stderr.write(`[bench] ${line}\n`);
  execFileSync(process.execPath, [join(root, 'scripts', 'ensure-built.mjs')], { cwd: root, stdio: 'inherit' });
  const result = await benchMysql({ seconds, root, log });
  const budget = mysqlBudget(result);
  console.log([
    `## MySQL: sysbench oltp_point_select (${result.tables} × ${result.tableSize} rows, prepared statements), ${seconds} s per run, ${cpus().length} CPUs`,
    '', mysqlTable(result), '', mysqlConnectTable(result), '', ...result.notes.map((note) => `- note: ${note}`),
    ...budget.map((verdict) => `- ${verdict.met === null ? 'n/a' : verdict.met ? 'met' : 'MISSED'}: ${verdict.bar} — ${verdict.value}`),
  ].join('\n'));
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `mysql-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), quick, mysql: result, budget }, null, 2)}\n`);
  log(`results written to ${file}`);
  if (mysqlEventChecks(result).some((check) => check.lost > 0)) {
    log('audit events lost: see the table');
    process.exitCode = 1;
  }
}
