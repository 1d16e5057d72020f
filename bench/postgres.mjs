// The Postgres section of `npm run bench` (DESIGN §8): pgbench -S against PostgreSQL directly, through pgbouncer
// (session pooling, SCRAM) and through jitgate (grant login, lease user, audit on), with 1 and 16 clients and one
// connect-per-transaction run; every target logs in as a user with the same privileges.
import pg from 'pg';
import { startJitgate } from './jitgate.mjs';
import { startRelayOnly } from './relay-only.mjs';
import { findPgbench, pgbenchInit, pgbenchRun } from './pgbench.mjs';
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

export const SCENARIOS = [
  { name: 'select-only, 1 client', clients: 1, threads: 1 },
  { name: 'select-only, 16 clients', clients: 16, threads: 2 },
  { name: 'connect per transaction, 4 clients', clients: 4, threads: 2, connect: true },
];

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

/** Runs the section; returns { targets, results, notes } for the report. */
export async function benchPostgres({ seconds, root, profileDir, log }) {
  const notes = [];
  const server = await startPostgres();
  const stops = [() => server.stop()];
  try {
    const pgbench = findPgbench(server.bin);
    if (pgbench === undefined) throw new Error('pgbench not found');
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
      targets.push({ ...direct, name: `pgbouncer ${bouncer.version} (session)`, port: bouncer.port, baseline: 'pgbouncer' });
    } else if (notes.length === 0) {
      notes.push('pgbouncer is not installed (apt-get install pgbouncer): no pgbouncer baseline');
    }

    const jitgate = await startJitgate({
      adminUrl: dbUrl(server, DATABASE), roleStatements: ROLE_STATEMENTS, root,
      nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    stops.push(() => jitgate.stop());
    const grant = await jitgate.grant();
    targets.push({ name: 'jitgate', host: '127.0.0.1', port: jitgate.pgPort, user: grant.id, password: grant.token, database: DATABASE });
    // Diagnostic: the same engine with the audit trail, store and broker stubbed out, in this process.
    const relay = await startRelayOnly({ root, host: '127.0.0.1', port: server.port, database: DATABASE, user: direct.user, password: direct.password });
    stops.push(() => relay.stop());
    targets.push({ name: RELAY_ONLY, host: '127.0.0.1', port: relay.port, user: relay.user, password: relay.password, database: DATABASE });

    // Warm-up: the lease is issued at jitgate's first login; caches, JIT and pools settle on every target.
    for (const target of targets) await pgbenchRun(pgbench, target, { clients: 4, threads: 2, seconds: 2 });

    const results = [];
    for (const scenario of SCENARIOS) {
      for (const target of targets) {
        const result = await pgbenchRun(pgbench, target, { ...scenario, seconds });
        results.push({ scenario: scenario.name, target: target.name, ...result });
        log(`${scenario.name.padEnd(36)} ${target.name.padEnd(28)} ${result.tps.toFixed(0).padStart(8)} tps  ${result.latencyMs.toFixed(3)} ms`);
      }
    }
    return { scale: SCALE, targets: targets.map((target) => target.name), results, notes };
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error) => notes.push(`stop failed: ${error.message}`));
  }
}

/** The markdown table: TPS, mean latency and both as a ratio to direct, per scenario. */
export function postgresTable({ results }) {
  const lines = ['| scenario | target | TPS | mean latency (ms) | TPS / direct | latency / direct |', '|---|---|---:|---:|---:|---:|'];
  for (const result of results) {
    const direct = results.find((other) => other.scenario === result.scenario && other.target === 'direct');
    const ratio = (value, base) => (base ? (value / base).toFixed(2) : '–');
    lines.push(`| ${result.scenario} | ${result.target} | ${result.tps.toFixed(0)} | ${result.latencyMs.toFixed(3)} | `
      + `${ratio(result.tps, direct?.tps)} | ${ratio(result.latencyMs, direct?.latencyMs)} |`);
  }
  return lines.join('\n');
}

/** DESIGN §8's Postgres bars, judged from the results. */
export function postgresBudget({ results }) {
  const find = (scenario, target) => results.find((result) => result.scenario === scenario && (target instanceof RegExp ? target.test(result.target) : result.target === target));
  const verdicts = [];
  const one = SCENARIOS[0].name;
  const sixteen = SCENARIOS[1].name;
  const connect = SCENARIOS[2].name;
  const [d1, j1] = [find(one, 'direct'), find(one, 'jitgate')];
  if (d1 && j1) verdicts.push({ bar: '1-client latency ≤ 1.2× direct', value: `${(j1.latencyMs / d1.latencyMs).toFixed(2)}×`, met: j1.latencyMs <= 1.2 * d1.latencyMs });
  const [b16, j16] = [find(sixteen, /^pgbouncer/), find(sixteen, 'jitgate')];
  if (b16 && j16) verdicts.push({ bar: '16 clients ≥ pgbouncer throughput', value: `${(j16.tps / b16.tps).toFixed(2)}× pgbouncer`, met: j16.tps >= b16.tps });
  const [bc, jc] = [find(connect, /^pgbouncer/), find(connect, 'jitgate')];
  if (bc && jc) verdicts.push({ bar: 'connection setup ≥ pgbouncer rate', value: `${(jc.tps / bc.tps).toFixed(2)}× pgbouncer`, met: jc.tps >= bc.tps });
  return verdicts;
}
