// The MySQL section of `npm run bench` (DESIGN §8): sysbench oltp_point_select against a throwaway MariaDB — directly,
// through haproxy (`mode tcp`, the baseline) and through jitgate (audit on, every statement an event) — with 1 and 16
// threads. sysbench uses server-side prepared statements by default (--db-ps-mode=auto): each transaction is one
// COM_STMT_EXECUTE, the path whose parameters jitgate's tap decodes. Bars: 16 threads through jitgate ≥ haproxy's TPS;
// 1-thread latency through jitgate ≤ 1.25× direct. Two diagnostic rows split jitgate's cost: "jitgate relay only"
// (the engine with its audit trail stubbed, mysql-relay-only.mjs) and "node pipe" (a bare Node byte pipe: the floor
// for a relay written in Node on this machine).
//
// From run.mjs:  import { benchMysql, mysqlBudget, mysqlTable } from './mysql.mjs';
//                const mysql = await benchMysql({ seconds, root, log, profileDir });  → mysqlTable(mysql), mysqlBudget(mysql)
// Alone:         node bench/mysql.mjs [--quick]   (prints the table, writes bench/results/mysql-<time>.json)
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMysqlRelayOnly } from './mysql-relay-only.mjs';
import { findBinary, mariadbAdmin, startHaproxy, startJitgateMysql, startMariadb, startNodePipe } from './mysql-servers.mjs';

const TABLES = 1;
const TABLE_SIZE = 100_000;
const THREADS = [1, 16];
const DATABASE = 'sbtest';

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
    tps: number(/transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/),
    qps: number(/queries:\s+\d+\s+\(([\d.]+) per sec\.\)/),
    latencyAvgMs: number(/avg:\s+([\d.]+)/),
    latencyP95Ms: number(/95th percentile:\s+([\d.]+)/),
    errors: number(/ignored errors:\s+(\d+)/),
  };
}

const CLOCK_TICKS = 100;
/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid) {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * Runs the section; `log` gets progress lines; with `profileDir`, jitgate runs under `node --cpu-prof` and leaves its
 * .cpuprofile there. Resolves with the measurements (see mysqlTable).
 */
export async function benchMysql({ seconds, root, log = () => {}, profileDir }) {
  if (!findBinary('sysbench')) throw new Error('the MySQL benchmark needs sysbench (apt-get install -y sysbench)');
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
    const jitgate = await startJitgateMysql({
      root, adminUrl: server.adminUrl(DATABASE), nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
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
      // Diagnostic: the engine in this process with the audit trail stubbed out (see mysql-relay-only.mjs).
      { name: 'jitgate relay only', endpoint: { port: relayOnly.port, user: relayOnly.user, password: relayOnly.password }, pid: relayOnly.pid },
      // Diagnostic: a bare Node byte pipe, the floor for any relay written in Node on this machine.
      { name: 'node pipe', endpoint: { ...direct, port: pipe.port }, pid: pipe.pid },
    ];
    // Warm the buffer pool and each path (jitgate: the lease user is created at the first connection).
    for (const target of targets) await sysbench([...connectionArgs(target.endpoint), '--threads=4', '--time=2', 'run']);

    const runs = [];
    for (const threads of THREADS) {
      for (const target of targets) {
        log(`mysql: ${target.name}, ${threads} thread${threads === 1 ? '' : 's'}, ${seconds} s`);
        const [proxyBefore, dbBefore] = [cpuSeconds(target.pid), cpuSeconds(server.pid)];
        const measured = parseSysbench(await sysbench([...connectionArgs(target.endpoint), `--threads=${threads}`, `--time=${seconds}`,
          '--report-interval=0', 'run']));
        const proxyCpu = cpuSeconds(target.pid) - proxyBefore;
        const dbCpu = cpuSeconds(server.pid) - dbBefore;
        runs.push({
          target: target.name, threads, ...measured,
          proxyCpuPercent: target.pid === undefined ? null : Math.round((proxyCpu / seconds) * 100),
          proxyCpuUsPerQuery: target.pid === undefined ? null : Math.round((proxyCpu * 1e6) / (measured.qps * seconds)),
          databaseCpuPercent: Math.round((dbCpu / seconds) * 100),
        });
      }
    }
    return { tables: TABLES, tableSize: TABLE_SIZE, seconds, runs, notes };
  } finally {
    for (const stop of stops) await stop().catch((error) => log(`mysql: cleanup failed: ${error.message}`));
  }
}

const find = (result, target, threads) => result.runs.find((run) => run.target === target && run.threads === threads);

export function mysqlTable(result) {
  const rows = result.runs.map((run) => {
    const direct = find(result, 'direct', run.threads);
    const ratio = direct ? (run.tps / direct.tps).toFixed(2) : '–';
    const latencyRatio = direct ? (run.latencyAvgMs / direct.latencyAvgMs).toFixed(2) : '–';
    const cpu = run.proxyCpuPercent === null ? '–' : `${run.proxyCpuPercent}% (${run.proxyCpuUsPerQuery} µs/query)`;
    return `| ${run.target} | ${run.threads} | ${run.tps.toFixed(0)} | ${ratio} | ${run.latencyAvgMs.toFixed(3)} | ${latencyRatio} `
      + `| ${run.latencyP95Ms.toFixed(3)} | ${cpu} | ${run.databaseCpuPercent}% |`;
  });
  return [
    '| target | threads | TPS | TPS ÷ direct | latency avg ms | ÷ direct | p95 ms | proxy CPU | mariadbd CPU |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** DESIGN §8's MariaDB bars, each { bar, value, met }. */
export function mysqlBudget(result) {
  const verdicts = [];
  const [jitgate16, haproxy16] = [find(result, 'jitgate', 16), find(result, 'haproxy', 16)];
  if (jitgate16 && haproxy16) {
    verdicts.push({ bar: 'MariaDB 16 threads through jitgate ≥ haproxy TPS', met: jitgate16.tps >= haproxy16.tps,
      value: `${jitgate16.tps.toFixed(0)} vs ${haproxy16.tps.toFixed(0)} TPS (${(jitgate16.tps / haproxy16.tps).toFixed(2)}×)` });
  }
  const [jitgate1, direct1] = [find(result, 'jitgate', 1), find(result, 'direct', 1)];
  if (jitgate1 && direct1) {
    const ratio = jitgate1.latencyAvgMs / direct1.latencyAvgMs;
    verdicts.push({ bar: 'MariaDB 1-thread latency through jitgate ≤ 1.25× direct', met: ratio <= 1.25,
      value: `${jitgate1.latencyAvgMs.toFixed(3)} vs ${direct1.latencyAvgMs.toFixed(3)} ms (${ratio.toFixed(2)}×)` });
  }
  return verdicts;
}

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
    '', mysqlTable(result), '', ...result.notes.map((note) => `- note: ${note}`),
    ...budget.map((verdict) => `- ${verdict.met ? 'met' : 'MISSED'}: ${verdict.bar} — ${verdict.value}`),
  ].join('\n'));
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `mysql-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), quick, mysql: result, budget }, null, 2)}\n`);
  log(`results written to ${file}`);
}
