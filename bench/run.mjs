// `npm run bench` (DESIGN §8): side-by-side load runs on this machine, printed as markdown and written as JSON to
// bench/results/. Sections: Postgres (pgbench, COPY out, idle sessions), MySQL (sysbench, connection setup), audit
// (CPU per statement event), then the review bench (review.mjs). `--quick` runs 5 s per measurement, ≈ 100 MB of COPY
// and 200 idle sessions instead of 15 s, ≈ 1 GB and 2000; `--profile` starts jitgate under `node --cpu-prof` and
// leaves the .cpuprofile in bench/results/profiles/.
// Exit status: non-zero only when the harness breaks (a server does not start, output cannot be read) or audit
// events were lost; a missed performance bar is reported, never a failure.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditBudget, auditEventChecks, auditTable, benchAudit } from './audit.mjs';
import { installMissing } from './install.mjs';
import { benchMysql, mysqlBudget, mysqlConnectTable, mysqlEventChecks, mysqlTable } from './mysql.mjs';
import { benchPostgres, copyTable, idleTable, postgresBudget, postgresEventChecks, postgresTable } from './postgres.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const seconds = quick ? 5 : 15;
const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const started = Date.now();

const packages = installMissing(log);
// The benchmark runs the compiled CLI: build when sources are newer than dist/.
execFileSync(process.execPath, [join(root, 'scripts', 'ensure-built.mjs')], { cwd: root, stdio: 'inherit' });

const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const profileDir = args.has('--profile') ? join(resultsDir, 'profiles') : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
log(`${machine.cpus} × ${machine.cpu}, node ${machine.node}, ${seconds} s per run${quick ? ' (--quick)' : ''}`);

const postgres = await benchPostgres({ seconds, quick, root, profileDir, log });
const mysql = await benchMysql({ seconds, root, log, profileDir });
const audit = await benchAudit({ root, events: quick ? 20_000 : 100_000, log });

const eventChecks = [...postgresEventChecks(postgres), ...mysqlEventChecks(mysql), ...auditEventChecks(audit)];
const lost = eventChecks.reduce((sum, check) => sum + check.lost, 0);
const budget = [
  ...postgresBudget(postgres), ...mysqlBudget(mysql), ...auditBudget(audit),
  { bar: 'events lost = 0 (every jitgate load run and the in-process pipeline)', met: lost === 0,
    value: `${lost} lost over ${eventChecks.length} runs (${eventChecks.map((check) => `${check.run}: ${check.events}/${check.transactions}`).join('; ')})` },
];
const mark = (verdict) => (verdict.met === null ? 'n/a' : verdict.met ? 'met' : 'MISSED');
const copyMb = postgres.copy[0] ? (postgres.copy[0].bytes / 1e6).toFixed(0) : '–';

const report = [
  `## Postgres: pgbench -S (scale ${postgres.scale}), ${seconds} s per run, ${machine.cpus} CPUs`,
  '',
  postgresTable(postgres),
  '',
  `Audit CPU per statement, jitgate − audit stubbed (16 clients, simple): ${postgres.auditCpuUs === null ? '–' : postgres.auditCpuUs.toFixed(1)} µs; `
    + `in-process pipeline (audit.mjs): ${audit.pipeline.cpuUs.toFixed(1)} µs.`,
  '',
  `## Postgres: COPY out, ${copyMb} MB per run (psql \\copy to /dev/null), best of ${postgres.copy[0]?.samples.length ?? 0}`,
  '',
  copyTable(postgres),
  '',
  `## Postgres: idle sessions (pg, authenticated, one select 1, then idle)`,
  '',
  idleTable(postgres),
  '',
  ...postgres.notes.map((note) => `- note: ${note}`),
  '',
  `## MySQL: sysbench oltp_point_select (${mysql.tables} × ${mysql.tableSize} rows, prepared statements), ${seconds} s per run, ${machine.cpus} CPUs`,
  '',
  mysqlTable(mysql),
  '',
  `## MySQL: connect + auth + SELECT 1 + close (mysql2), ${seconds} s per target`,
  '',
  mysqlConnectTable(mysql),
  '',
  ...mysql.notes.map((note) => `- note: ${note}`),
  ...packages.missing.map((name) => `- note: ${name} could not be installed`),
  '',
  `## Audit: ${audit.events} statement events through the real pipeline`,
  '',
  auditTable(audit),
  '',
  '## DESIGN §8 bars',
  '',
  ...budget.map((verdict) => `- ${mark(verdict)}: ${verdict.bar} — ${verdict.value}`),
].join('\n');
console.log(report);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = join(resultsDir, `bench-${stamp}.json`);
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, quick, seconds, packages, postgres, mysql, audit, eventChecks, budget }, null, 2)}\n`);
log(`results written to ${file}${profileDir ? `; CPU profiles in ${profileDir}` : ''}`);

// Review API/UI response times over a seeded store (10k sessions, one of 100k statements): issue 8's budget.
execFileSync(process.execPath, [join(root, 'bench', 'review.mjs'), ...(quick ? ['--quick'] : [])], { cwd: root, stdio: 'inherit' });
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
// Lost audit events are a broken gateway, not a slow one: the one bar that fails the run.
if (lost > 0) {
  log(`${lost} audit events lost`);
  process.exitCode = 1;
}
