// The load tool and baselines `npm run bench` compares against come from Debian: install whichever of them is missing
// (sudo when not root). The package index is refreshed only when a first install fails, since on a warm machine it is
// the slow part. Failing to install is logged, never fatal: each section notes a missing baseline itself.
import { execFileSync } from 'node:child_process';
import { findExecutable } from './spawn.mjs';

/** Debian package → the executable it provides. */
const PACKAGES = { pgbouncer: 'pgbouncer', haproxy: 'haproxy', sysbench: 'sysbench' };

function apt(args, log) {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const [command, ...rest] = [...sudo, 'apt-get', ...args];
  try {
    execFileSync(command, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
    return true;
  } catch (error) {
    log(`apt-get ${args[0]} failed: ${(error.stderr?.toString() || error.message).trim().split('\n').slice(-3).join(' / ')}`);
    return false;
  }
}

/** Installs the missing packages; returns { installed, missing } by package name. */
export function installMissing(log) {
  const missing = Object.keys(PACKAGES).filter((name) => findExecutable(PACKAGES[name]) === undefined);
  if (missing.length === 0) return { installed: [], missing: [] };
  log(`installing ${missing.join(', ')} (Debian packages)`);
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...missing];
  if (!apt(install, log) && apt(['update', '-qq'], log)) apt(install, log);
  const still = missing.filter((name) => findExecutable(PACKAGES[name]) === undefined);
  if (still.length) log(`still missing: ${still.join(', ')}; the sections go on without them`);
  return { installed: missing.filter((name) => !still.includes(name)), missing: still };
}
