// What the benchmark reads about a running process (Linux /proc): CPU time used so far and resident memory. Every
// thread counts — jitgate's audit writer is a worker thread, and its CPU is part of the cost per statement.
import { readFileSync } from 'node:fs';

// USER_HZ, the unit of utime/stime in /proc/<pid>/stat: 100 on every Linux architecture Node supports.
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) `pid` has used so far; 0 when it is gone or undefined. */
export function cpuSeconds(pid) {
  if (pid === undefined) return 0;
  if (pid === process.pid) {
    // Our own process: getrusage has µs resolution where /proc has 10 ms ticks.
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  }
  try {
    // The command name may hold spaces or parentheses: fields are counted after its closing parenthesis.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Starts measuring `pid`'s CPU; the returned function gives the seconds used since. */
export function cpuMeter(pid) {
  const start = cpuSeconds(pid);
  return () => cpuSeconds(pid) - start;
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined. */
export function rssBytes(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
