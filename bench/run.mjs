// `npm run bench` (DESIGN §8): side-by-side load runs on this machine, printed as markdown and written as JSON to
// bench/results/. Sections: Postgres (pgbench), audit (CPU per statement event). `--quick` runs 5 s per measurement
// instead of 15 s; `--profile` starts jitgate under `node --cpu-prof` and leaves the .cpuprofile in
// bench/results/profiles/.
// MySQL: sysbench oltp_point_select direct / haproxy / jitgate (bench/mysql.mjs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditBudget, auditTable, benchAudit } from './audit.mjs';
import { benchMysql, mysqlBudget, mysqlTable } from './mysql.mjs';
import { benchPostgres, postgresBudget, postgresTable } from './postgres.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const seconds = quick ? 5 : 15;
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

// The benchmark runs the compiled CLI: build when sources are newer than dist/.
execFileSync(process.execPath, [join(root, 'scripts', 'ensure-built.mjs')], { cwd: root, stdio: 'inherit' });

const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const profileDir = args.has('--profile') ? join(resultsDir, 'profiles') : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
log(`${machine.cpus} × ${machine.cpu}, node ${machine.node}, ${seconds} s per run${quick ? ' (--quick)' : ''}`);

const postgres = await benchPostgres({ seconds, root, profileDir, log });
const mysql = await benchMysql({ seconds, root, log, profileDir });
const audit = await benchAudit({ root, events: quick ? 20_000 : 100_000, log });
const budget = [...postgresBudget(postgres), ...mysqlBudget(mysql), ...auditBudget(audit)];

const report = [
  `## Postgres: pgbench -S (scale ${postgres.scale}), ${seconds} s per run, ${machine.cpus} CPUs`,
  '',
  postgresTable(postgres),
  '',
  ...postgres.notes.map((note) => `- note: ${note}`),
  '',
  `## MySQL: sysbench oltp_point_select (${mysql.tables} × ${mysql.tableSize} rows, prepared statements), ${seconds} s per run, ${machine.cpus} CPUs`,
  '',
  mysqlTable(mysql),
  '',
  ...mysql.notes.map((note) => `- note: ${note}`),
  '',
  `## Audit: ${audit.events} statement events through the real pipeline`,
  '',
  auditTable(audit),
  '',
  '## DESIGN §8 bars',
  '',
  ...budget.map((verdict) => `- ${verdict.met ? 'met' : 'MISSED'}: ${verdict.bar} — ${verdict.value}`),
].join('\n');
console.log(report);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = join(resultsDir, `bench-${stamp}.json`);
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, quick, seconds, postgres, mysql, audit, budget }, null, 2)}\n`);
log(`results written to ${file}${profileDir ? `; CPU profiles in ${profileDir}` : ''}`);

// Review API/UI response times over a seeded store (10k sessions, one of 100k statements): issue 8's budget.
execFileSync(process.execPath, [join(root, 'bench', 'review.mjs'), ...(quick ? ['--quick'] : [])], { cwd: root, stdio: 'inherit' });
