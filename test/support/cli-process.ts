// The `jitgate` CLI as users run it, for integration suites: bin/jitgate.js in a child process (dist/, so build
// first), `jitgate serve` from a copy of the bundled config on free ports, and a wait until it answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'jitgate.js');
export const CLI_KEYS = { admin: 'cli-test-admin-key-0000000001', dev: 'cli-test-dev-key-000000000002' } as const;

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to (or, with undefined, removed from) this process's environment. */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Written to the child's stdin, which is then closed (default: stdin is /dev/null). */
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs `node bin/jitgate.js …args` and collects its output. */
export function runJitgate(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A port nothing listens on right now: bind port 0, read what the kernel picked, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The bundled config as shipped, with the start sweep off (the run's servers carry other suites' jg_ users), passed
 * through `edit`, written to `dir/jitgate.yaml`.
 */
export function writeBundledConfig(dir: string, edit: (yaml: string) => string = (yaml) => yaml): string {
  const path = join(dir, 'jitgate.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, edit(`${readFileSync(join(ROOT, 'config', 'jitgate.yaml'), 'utf8')}\ncredentials: { sweep_on_start: false }\n`));
  return path;
}

export interface ServeEnv {
  readonly apiPort: number;
  readonly pgPort: number;
  readonly mysqlPort: number;
  readonly dataDir: string;
  readonly pgAdminUrl: string;
  readonly mysqlAdminUrl: string;
}

/** The env the bundled config reads, for `serve`. */
export function serveEnv(env: ServeEnv): Record<string, string> {
  return {
    JITGATE_API_ADDR: `127.0.0.1:${env.apiPort}`,
    JITGATE_PG_ADDR: `127.0.0.1:${env.pgPort}`,
    JITGATE_MYSQL_ADDR: `127.0.0.1:${env.mysqlPort}`,
    JITGATE_DATA_DIR: env.dataDir,
    JITGATE_PG_ADMIN_URL: env.pgAdminUrl,
    JITGATE_MYSQL_ADMIN_URL: env.mysqlAdminUrl,
    JITGATE_ADMIN_KEY: CLI_KEYS.admin,
    JITGATE_DEV_KEY: CLI_KEYS.dev,
  };
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  log(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `jitgate serve --config <path>`; `shell` wraps it in `sh -c` (e.g. to set a umask first). */
export function startServe(configPath: string, env: Record<string, string>, options: { cwd?: string; umask?: string } = {}): ServeProcess {
  const argv = [BIN, 'serve', '--config', configPath];
  const child = options.umask === undefined
    ? spawn(process.execPath, argv, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('sh', ['-c', `umask ${options.umask} && exec "$0" "$@"`, process.execPath, ...argv], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, log: () => log, exited };
}

/** Waits until `GET url/livez` answers 200 (throws with the server's output if it exits or takes over 30 s). */
export async function waitServing(server: ServeProcess, apiUrl: string, path = '/livez'): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`jitgate serve exited with ${server.child.exitCode}:\n${server.log()}`);
    const up = await fetch(`${apiUrl}${path}`).then((response) => response.status === 200, () => false);
    if (up) return;
    if (Date.now() > deadline) throw new Error(`jitgate serve not answering after 30s:\n${server.log()}`);
    await sleep(100);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
export async function stopServe(server: ServeProcess, graceMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
    const result = await server.exited;
    clearTimeout(timer);
    return result;
  }
  return server.exited;
}
