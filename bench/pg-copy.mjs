// COPY-out throughput for the Postgres section (DESIGN §8: bulk COPY ≥ 0.95× direct): psql reads
// `COPY (SELECT g, repeat('x', 100) FROM generate_series(1, N) g) TO STDOUT` to the end and writes it to /dev/null,
// so the client costs next to nothing and the row stream through the proxy is what is timed. The payload size is
// known exactly from N, so MB/s needs no byte counting on our side. MB = 10^6 bytes.
import { performance } from 'node:perf_hooks';
import { libpqEnv } from './pgbench.mjs';
import { cpuMeter } from './proc.mjs';
import { execText } from './spawn.mjs';

/** Rows for ≈ `megabytes` of COPY text (each row: the number, a tab, 100 × 'x', a newline). */
export const copyRows = (megabytes) => Math.round((megabytes * 1e6) / 108);

/** The exact size of the COPY text for rows 1..n: digits of every g plus 102 bytes of tab, filler and newline. */
export function copyBytes(rows) {
  let digits = 0;
  for (let width = 1, low = 1; low <= rows; width++, low *= 10) digits += width * (Math.min(rows, low * 10 - 1) - low + 1);
  return digits + rows * 102;
}

/** `repeats` timed COPY runs through `connection`; the best one stands (noise on a shared box only slows runs down). */
export async function copyOut(psql, connection, { rows, repeats = 3, pid }) {
  const sql = `\\copy (SELECT g, repeat('x', 100) FROM generate_series(1, ${rows}) g) to '/dev/null'`;
  const bytes = copyBytes(rows);
  const samples = [];
  for (let i = 0; i < repeats; i++) {
    const cpu = cpuMeter(pid);
    const start = performance.now();
    await execText(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: libpqEnv(connection), timeout: 600_000 });
    const seconds = (performance.now() - start) / 1000;
    samples.push({ seconds, mbPerSecond: bytes / 1e6 / seconds, proxyCpuSeconds: pid === undefined ? null : cpu() });
  }
  const best = samples.reduce((a, b) => (b.mbPerSecond > a.mbPerSecond ? b : a));
  return {
    rows, bytes, mbPerSecond: best.mbPerSecond, seconds: best.seconds,
    proxyCpuUsPerMb: best.proxyCpuSeconds === null ? null : (best.proxyCpuSeconds * 1e6) / (bytes / 1e6), samples,
  };
}
