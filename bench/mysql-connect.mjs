// Connection setup rate for the MySQL section (DESIGN §8: connect + auth + query + close ≥ the baseline's rate):
// `loops` concurrent loops, each connecting with mysql2, authenticating, running one `SELECT 1` and closing, for
// `seconds`. Counts completed cycles; any failure is a broken harness or proxy, so it throws.
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { cpuMeter } from './proc.mjs';

export async function connectLoop({ endpoint, database, seconds, loops = 4, pid }) {
  const cpu = cpuMeter(pid);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let cycles = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: endpoint.port, user: endpoint.user, password: endpoint.password, database });
      await connection.query('SELECT 1');
      await connection.end();
      cycles++;
    }
  };
  await Promise.all(Array.from({ length: loops }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const cpuSeconds = pid === undefined ? null : cpu();
  return { loops, seconds: elapsed, cycles, perSecond: cycles / elapsed, proxyCpuUsPerConnection: cpuSeconds === null ? null : (cpuSeconds * 1e6) / cycles };
}
