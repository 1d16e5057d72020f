// Kill -9 (issue 4, acceptance line 4): a jitgate child process issues leases on PostgreSQL and MariaDB and is killed
// with SIGKILL, so nothing is revoked and the passwords die with it; `jitgate serve` on the same config then sweeps at
// start, and no user of this deployment is left on either server — while users of another deployment on the same
// servers, and unrecorded ones named before deployment marks, are left alone (issue 19). The servers are this test's
// own, so it can assert that nothing else is left.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import { deploymentMark } from '../../src/credentials/deployment.js';
import { leaseConfigYaml } from '../support/lease-config.js';
import { findMariadbBinaries, startThrowawayMariadb } from '../support/servers/mariadb.js';
import { findPostgresBinDir, startThrowawayPostgres } from '../support/servers/postgres.js';
import type { TestServer } from '../support/servers/test-server.js';
import { TEST_KEYS } from '../support/test-config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = join(ROOT, 'test', 'support', 'lease-issuer-child.mjs');
const BIN = join(ROOT, 'bin', 'jitgate.js');

interface IssuedLease {
  readonly grant: string;
  readonly resource: string;
  readonly username: string;
}

const children: ChildProcess[] = [];
const servers: TestServer[] = [];
let dedicated = false;
let dir = '';
let pgPool: pg.Pool;
let mysqlPool: mysql.Pool;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function start(args: readonly string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, {
    cwd: ROOT, env: { ...process.env, JITGATE_TEST_DEV_KEY: TEST_KEYS.dev }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  return { child, output: () => output };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, log: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; process output:\n${log()}`);
    await sleep(50);
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The deployment mark the store at `path` gives its users (src/credentials/deployment.ts). */
function deploymentMarkIn(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('select id from deployment').get() as { id: string } | undefined;
    if (row === undefined) throw new Error('the store has no deployment id');
    return deploymentMark(row.id);
  } finally {
    db.close();
  }
}

/** Every jitgate-prefixed user on both servers, as `resource/username` like the child reports them. */
async function managedUsers(): Promise<string[]> {
  const pgUsers = await pgPool.query<{ rolname: string }>(String.raw`select rolname from pg_roles where rolname like 'jg\_%'`);
  const [mysqlUsers] = await mysqlPool.query<mysql.RowDataPacket[]>(String.raw`select User as name from mysql.user where User like 'jg\_%'`);
  return [
    ...pgUsers.rows.map((row) => `k9-pg/${row.rolname}`),
    ...mysqlUsers.map((row) => `k9-mysql/${String(row.name)}`),
  ].sort();
}

beforeAll(async () => {
  // The child and `serve` run the compiled code: build it when sources are newer (npm test's pretest does the same).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.mjs')], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  const pgBin = findPostgresBinDir();
  const mariadbBinaries = findMariadbBinaries();
  let pgUrl = inject('pgAdminUrl');
  let mysqlUrl = inject('mysqlAdminUrl');
  if (pgBin !== undefined && mariadbBinaries !== undefined) {
    const [pgServer, mysqlServer] = await Promise.all([startThrowawayPostgres(pgBin), startThrowawayMariadb(mariadbBinaries)]);
    servers.push(pgServer, mysqlServer);
    pgUrl = pgServer.adminUrl;
    mysqlUrl = mysqlServer.adminUrl;
    dedicated = true;
  } else {
    console.log('[kill -9] no server binaries for dedicated servers: using the shared ones; only this test\'s users are checked');
  }
  pgPool = new pg.Pool({ connectionString: pgUrl, max: 2 });
  pgPool.on('error', () => {});
  mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: 2 });
  dir = mkdtempSync(join(tmpdir(), 'jitgate-kill9-'));
  writeFileSync(join(dir, 'jitgate.yaml'), leaseConfigYaml({
    dataDir: dir,
    sweepOnStart: true,
    resources: [
      { name: 'k9-pg', protocol: 'postgres', adminUrl: pgUrl },
      { name: 'k9-mysql', protocol: 'mysql', adminUrl: mysqlUrl },
    ],
  }));
}, 240_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await pgPool?.end();
  await mysqlPool?.end();
  await Promise.all(servers.map((server) => server.stop()));
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('crash recovery', () => {
  it('revokes every user a SIGKILLed jitgate left behind, at the next start', async () => {
    const configPath = join(dir, 'jitgate.yaml');
    const issuer = start([CHILD, configPath, 'k9-pg', 'k9-pg', 'k9-mysql', 'k9-mysql']);
    const ready = await until('READY from the lease issuer', () => /^READY (.*)$/m.exec(issuer.output())?.[1], 30_000, issuer.output);
    const issued = JSON.parse(ready) as IssuedLease[];
    const ours = issued.map((lease) => `${lease.resource}/${lease.username}`).sort();
    expect(issued).toHaveLength(4);
    expect(new Set(ours).size).toBe(4);

    issuer.child.kill('SIGKILL');
    await exited(issuer.child);
    expect(issuer.child.signalCode).toBe('SIGKILL');
    // Users that a crash between "user created" and "lease recorded" would leave: no lease row anywhere, but this
    // deployment's mark (from its store) in the name.
    const mark = deploymentMarkIn(join(dir, 'jitgate.db'));
    expect(issued.every((lease) => lease.username.startsWith(`jg_${mark}_`))).toBe(true);
    const orphanPg = `jg_${mark}_readonly_${newGrantId().slice(2)}`;
    const orphanMysql = `jg_${mark}_re_${newGrantId().slice(2)}`;
    await pgPool.query(`create role "${orphanPg}" login`);
    await mysqlPool.query(`create user '${orphanMysql}'@'%' identified by 'orphan-password-1'`);
    const left = [...ours, `k9-pg/${orphanPg}`, `k9-mysql/${orphanMysql}`];
    // Not this deployment's: another deployment's user (another mark) and one named before marks, neither in this store.
    const foreignNames = [`jg_${mark === '7zzzz' ? '6zzzz' : '7zzzz'}_readonly_${newGrantId().slice(2)}`, `jg_readonly_${newGrantId().slice(2)}`];
    for (const name of foreignNames) {
      await pgPool.query(`create role "${name}" login`);
      await mysqlPool.query(`create user '${name.slice(0, 32)}'@'%' identified by 'foreign-password-1'`);
    }
    const foreign = foreignNames.flatMap((name) => [`k9-pg/${name}`, `k9-mysql/${name.slice(0, 32)}`]).sort();
    const before = await managedUsers();
    expect(before).toEqual(expect.arrayContaining([...left, ...foreign]));
    console.log(`[kill -9] after SIGKILL: ${before.length} jitgate users on the servers (${left.length} from this test)`);

    const startedAt = Date.now();
    const serve = start([BIN, 'serve', '--config', configPath]);
    const remaining = await until('the sweep to revoke every left-over user', async () => {
      const users = await managedUsers();
      return users.some((user) => left.includes(user)) ? undefined : users;
    }, 30_000, serve.output);
    console.log(`[kill -9] restart → left-over users gone in ${Date.now() - startedAt} ms; jitgate users left on both servers: ${remaining.length}`);
    expect(remaining).toEqual(expect.arrayContaining(foreign));
    if (dedicated) expect(remaining).toEqual(foreign);

    const db = new Database(join(dir, 'jitgate.db'), { readonly: true, fileMustExist: true });
    try {
      const revokedEvents = await until('credential.revoked for every user', () => {
        const rows = db.prepare("select body from audit_events where type = 'credential.revoked'").all() as { body: string }[];
        return rows.length >= left.length ? rows.map((row) => JSON.parse(row.body) as { username: string; verified: boolean }) : undefined;
      }, 10_000, serve.output);
      expect(revokedEvents.map((event) => event.username).sort()).toEqual(left.map((user) => user.split('/')[1]).sort());
      expect(revokedEvents.every((event) => event.verified)).toBe(true);
      const leases = db.prepare('select username, state from leases').all() as { username: string; state: string }[];
      expect(leases).toHaveLength(left.length); // the orphans got a row before their revocation
      expect(leases.every((lease) => lease.state === 'revoked')).toBe(true);
    } finally {
      db.close();
    }

    serve.child.kill('SIGTERM');
    expect(await exited(serve.child)).toBe(0);
    for (const name of foreignNames) {
      await pgPool.query(`drop role if exists "${name}"`);
      await mysqlPool.query(`drop user if exists '${name.slice(0, 32)}'@'%'`);
    }
  }, 90_000);
});
