// psql as a child process, exactly as a person would run it: no psqlrc (-X), the connection from the target's env,
// ON_ERROR_STOP chosen by the scenario, and a hard deadline so a proxy that hangs fails the test instead of the run.
import { spawn } from 'node:child_process';
import type { PgTarget } from '../pg-target.js';

export interface PsqlRun {
  /** null when psql was killed (see `signal`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PsqlOptions {
  /** Fed to psql's standard input, then closed. */
  readonly stdin?: string;
  readonly onErrorStop?: boolean;
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

export function runPsql(target: PgTarget, args: readonly string[], options: PsqlOptions = {}): Promise<PsqlRun> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fullArgs = ['-X', '-v', `ON_ERROR_STOP=${options.onErrorStop === true ? 1 : 0}`, ...args];
  // C messages keep psql's own words stable; PGCONNECT_TIMEOUT bounds the login, the deadline bounds everything else.
  const env = { PGCONNECT_TIMEOUT: '5', ...target.psqlEnv, LC_ALL: 'C.UTF-8', PGCLIENTENCODING: 'UTF8' };
  return new Promise((resolve, reject) => {
    const child = spawn('psql', fullArgs, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {}); // psql may exit (ON_ERROR_STOP) before reading all of its input
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const run = { code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (signal !== null) reject(new Error(`psql ${args.join(' ')}: killed by ${signal} (deadline ${timeoutMs} ms); stderr: ${run.stderr}`));
      else resolve(run);
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs psql and insists it exits 0; returns its standard output. */
export async function psqlOk(target: PgTarget, args: readonly string[], options: PsqlOptions = {}): Promise<string> {
  const run = await runPsql(target, args, options);
  if (run.code !== 0) throw new Error(`psql ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}
