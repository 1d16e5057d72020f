// Process plumbing for the throwaway test servers: free ports, running a tool to completion, a daemon that can be
// stopped, and a last-resort cleanup at process exit, so a crashed run leaves no server or temp dir behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** Looks a user up in /etc/passwd (Node has no getpwnam). */
export function lookupOsUser(name: string): OsUser | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** The first executable named `names` on PATH or in `extraDirs` (sbin is often missing from PATH). */
export function findExecutable(names: readonly string[], extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter((dir) => dir !== '');
  for (const name of names) {
    for (const dir of dirs) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * Where temp dirs go. A server running as another OS user must traverse every ancestor, which a TMPDIR under
 * /root would forbid; /tmp always allows it.
 */
export function sharedTmpdir(): string {
  const candidate = tmpdir();
  for (let dir = candidate; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return '/tmp';
    if (dirname(dir) === dir) return candidate;
  }
}

/** A port that was free a moment ago; callers retry when the server then finds it taken. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function logTail(path: string, lines = 25): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface SpawnOptions {
  /** Output of the process goes here (appended). */
  readonly logPath: string;
  readonly cwd: string;
  /** Run as this OS user (initdb and postgres refuse to run as root). */
  readonly as?: OsUser | undefined;
}

function spawnLogged(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const fd = openSync(options.logPath, 'a', 0o644);
  try {
    return spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', fd, fd],
      ...(options.as === undefined ? {} : { uid: options.as.uid, gid: options.as.gid }),
    });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
}

/** Runs a setup tool (initdb, mariadb-install-db) and rejects with the tail of its log when it fails. */
export function runToCompletion(command: string, args: readonly string[], options: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnLogged(command, args, options);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} failed (${signal ?? `exit ${code}`}):\n${logTail(options.logPath)}`));
    });
  });
}

const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/** Runs `cleanup` (synchronously) if the process exits before it was unregistered. */
export function onProcessExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Newest first: daemons are killed before the directories they write into are removed.
    process.once('exit', () => {
      for (const run of [...exitCleanups].reverse()) run();
    });
  }
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

export function removeDirOnExit(dir: string): () => void {
  return onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
}

export interface Daemon {
  readonly pid: number | undefined;
  /** Resolves when the process has exited, with its code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** Sends `signal`, waits for the exit, and falls back to SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function startDaemon(command: string, args: readonly string[], options: SpawnOptions): Daemon {
  const child = spawnLogged(command, args, options);
  let done = false;
  const unregister = onProcessExit(() => {
    if (!done) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('exit', (code) => resolve(code));
  }).finally(() => {
    done = true;
    unregister();
  });
  return {
    pid: child.pid,
    exited,
    hasExited: () => done,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (done) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it answers true; fails early (with the log) if the daemon dies, or after `timeoutMs`. */
export async function waitUntilReady(
  what: string, daemon: Daemon, logPath: string, probe: () => Promise<boolean>, timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.hasExited()) throw new Error(`${what} exited during startup:\n${logTail(logPath)}`);
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${logTail(logPath)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
