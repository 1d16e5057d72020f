// Process plumbing shared by the throwaway servers of `npm run bench` (servers.mjs, mysql-servers.mjs, jitgate.mjs):
// temp dirs, binaries on the usual Debian paths, free ports, spawning with a log file, waiting for a listener, stopping.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

/** The first of `names` found in the usual binary directories (daemons live in sbin on Debian). */
export const findExecutable = (...names) => names.flatMap((name) => BIN_DIRS.map((dir) => join(dir, name))).find((path) => existsSync(path));

/** A fresh temp dir; `base` is fixed to /tmp by callers whose servers run as another OS user and must reach it. */
export const tempDir = (prefix, base = tmpdir()) => mkdtempSync(join(base, prefix));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns with stdout and stderr appended to `logPath`; `as` ({ uid, gid }) drops to another OS user. */
export function spawnLogged(command, args, logPath, as, extra = {}) {
  const fd = openSync(logPath, 'a', 0o644);
  return spawn(command, args, { stdio: ['ignore', fd, fd], ...(as ? { uid: as.uid, gid: as.gid } : {}), ...extra });
}

/** Runs to completion with output in `logPath`; rejects on a non-zero exit. */
export function runToEnd(command, args, logPath, as) {
  return new Promise((resolve, reject) => {
    const child = spawnLogged(command, args, logPath, as);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}; see ${logPath}`))));
  });
}

/** execFile as a promise of stdout; the error carries stderr, which is where these tools explain themselves. */
export function execText(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

export async function waitForPort(port, what, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited during startup (${child.exitCode})`);
    const open = await new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends `signal` (each server has its own graceful one) and SIGKILLs after `graceMs`. */
export function stopChild(child, signal = 'SIGTERM', graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill(signal);
  });
}
