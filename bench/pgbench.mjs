// pgbench as the load generator: `-i` to load the tables, then runs whose summary lines (tps, latency average) are
// parsed from its standard output. libpq settings come from the environment, stripped of inherited PG* variables.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A client tool of the server's major (`pgbench`, `psql`), else the one on the usual paths. */
export function findPgTool(pgBin, name) {
  for (const candidate of [pgBin && join(pgBin, name), `/usr/bin/${name}`, `/usr/local/bin/${name}`]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const findPgbench = (pgBin) => findPgTool(pgBin, 'pgbench');

export function libpqEnv(connection) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
  return {
    ...env, PGHOST: connection.host, PGPORT: String(connection.port), PGUSER: connection.user, PGPASSWORD: connection.password,
    PGDATABASE: connection.database, PGSSLMODE: 'disable', PGAPPNAME: 'jitgate-bench',
  };
}

function run(binary, args, connection, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { env: libpqEnv(connection), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`pgbench ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

export async function pgbenchInit(binary, connection, scale) {
  await run(binary, ['-i', '-s', String(scale), '-q', '--unlogged-tables'], connection, 600_000);
}

/** What pgbench -S sends once per transaction (simple protocol: the literal aid; extended: `$1`). */
export const PGBENCH_SELECT = 'SELECT abalance FROM pgbench_accounts WHERE aid = ';

/**
 * One `pgbench -n -S` run (select-only, no vacuum: the lease user owns nothing). `protocol`: simple (default) or
 * extended (-M: Parse/Bind/Execute per transaction). `connect: true` adds -C, a new connection per transaction,
 * which measures login cost instead of relay cost.
 */
export async function pgbenchRun(binary, connection, { clients, threads, seconds, connect = false, protocol = 'simple' }) {
  const args = ['-n', '-S', '-M', protocol, '-T', String(seconds), '-c', String(clients), '-j', String(threads), ...(connect ? ['-C'] : [])];
  const { stdout } = await run(binary, args, connection, (seconds + 60) * 1000);
  const tps = Number(stdout.match(/tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing|including connections establishing)\)/)?.[1]
    ?? stdout.match(/tps = ([\d.]+)/)?.[1]);
  const latencyMs = Number(stdout.match(/latency average = ([\d.]+) ms/)?.[1]);
  const transactions = Number(stdout.match(/number of transactions actually processed: (\d+)/)?.[1]);
  const failed = Number(stdout.match(/number of failed transactions: (\d+)/)?.[1] ?? 0);
  if (!Number.isFinite(tps) || !Number.isFinite(latencyMs) || !Number.isFinite(transactions)) throw new Error(`cannot read pgbench output:\n${stdout}`);
  return { clients, threads, seconds, connect, protocol, tps, latencyMs, transactions, failed };
}
