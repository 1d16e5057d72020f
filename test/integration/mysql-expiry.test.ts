// Issue 6, acceptance 4 (DESIGN §4): a grant's end reaches its MySQL sessions. At expiry a running SELECT SLEEP(600)
// is killed (KILL QUERY upstream) and answered with ERR 1927 naming the grant; idle sessions (the mariadb CLI waiting
// on its stdin, a mysql2 connection) get the same ERR unsolicited before the close (issue 19 defect 11c), which the
// CLI reports for its next statement and mysql2 as the connection's 'error'; the lease user is gone from mysql.user
// and the processlist soon after. An API revoke does the same with "… was revoked". Times are measured from the
// grant's expiresAt (or the revoke call) and printed.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import mysqlCallback from 'mysql2';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs } from '../support/api-client.js';
import { trailHead, waitForEvent } from '../support/mysql-audit-events.js';
import { mariadbCliProcess } from '../support/mysql-scenarios/cli.js';
import { connectionOptions, rowsOf, serverErrorOf, type ServerError } from '../support/mysql-scenarios/connect.js';
import { createJitgateMysqlTarget, type MysqlTarget } from '../support/mysql-target.js';
import { mysqlAdminUrl } from '../support/databases.js';

const TTL = '8s';

interface Timed<T> {
  readonly value: T;
  readonly at: number;
}

const timed = <T>(promise: Promise<T>): Promise<Timed<T>> => promise.then((value) => ({ value, at: Date.now() }));

/** The mariadb CLI logged in and idle: stdin stays open (a pipe), so it sits connected waiting for input. */
function idleCli(target: MysqlTarget, user: string, password: string): ChildProcessWithoutNullStreams & { result: Promise<{ code: number | null; stderr: string }> } {
  const child = mariadbCliProcess({ ...target, user }, ['--batch'], password);
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdout.resume();
  const result = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(stderr).toString('utf8') }));
  });
  return Object.assign(child, { result });
}

/** Polls the server as root until `user` has no account and no connection; resolves with when that was first seen. */
async function leaseUserGone(admin: mysql.Connection, user: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [rows] = await admin.query(`select (select count(*) from mysql.user where user = ?) as accounts,
      (select count(*) from information_schema.processlist where user = ?) as connections`, [user, user]);
    const row = rowsOf(rows)[0];
    if (Number(row?.accounts) === 0 && Number(row?.connections) === 0) return Date.now();
    if (Date.now() > deadline) throw new Error(`lease user ${user} still present after ${timeoutMs} ms: ${JSON.stringify(row)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('MySQL sessions at grant expiry and revocation', () => {
  let jitgate: Awaited<ReturnType<typeof createJitgateMysqlTarget>> | undefined;
  let admin: mysql.Connection | undefined;
  const setup = () => {
    if (jitgate === undefined || admin === undefined) throw new Error('setup failed (see beforeAll)');
    return { jitgate, admin, handle: jitgate.instance.handle, target: jitgate.target };
  };
  const leaseUserOf = async (grant: string): Promise<string> => {
    const issued = await waitForEvent(setup().handle, 0, (event) => event.type === 'credential.issued' && event.grant === grant);
    return String(issued.username);
  };

  beforeAll(async () => {
    jitgate = await createJitgateMysqlTarget('jitgate (expiry)', { listenerTls: false });
    admin = await mysql.createConnection({ uri: mysqlAdminUrl() });
  });
  afterAll(async () => {
    await admin?.end();
    await jitgate?.cleanup();
  });

  it(`at expiry (ttl ${TTL}): SLEEP(600) and the idle CLI and mysql2 connection get ERR 1927 naming the grant, the lease user is gone`, { timeout: 30_000 }, async () => {
    const { jitgate: instance, handle, target } = setup();
    const grant = await instance.instance.grant('clients-mysql', 'readwrite', TTL);
    const expiresAt = Date.parse(grant.expiresAt);
    const after = await trailHead(handle);
    const cli = idleCli(target, grant.id, grant.token);
    const sleeper = await mysql.createConnection(connectionOptions(target, { user: grant.id, password: grant.token }));
    sleeper.on('error', () => undefined);
    // An application's idle pooled connection: mysql2 reports an unsolicited ERR as the connection's 'error'.
    const idle = await mysql.createConnection(connectionOptions(target, { user: grant.id, password: grant.token }));
    const idleError = new Promise<Error & { code?: unknown; fatal?: unknown }>((resolve) => idle.on('error', resolve));
    await idle.query('select 1');
    const [whoami] = await sleeper.query('select current_user() as user');
    const leaseUser = await leaseUserOf(grant.id);
    expect(String(rowsOf(whoami)[0]?.user)).toMatch(new RegExp(`^${leaseUser}@`));
    // The CLI is in (its session names the client program) and idle.
    const cliStarted = await waitForEvent(handle, after, (event) => event.type === 'session.started' && event.grant === grant.id
      && /mysql|mariadb/.test(String(event.program)));
    const killed = timed(serverErrorOf(sleeper.query('select sleep(600)')));
    // Watched from before expiry, so the first poll that finds the user gone is timed, whatever else is awaited.
    const gone = leaseUserGone(setup().admin, leaseUser, expiresAt - Date.now() + 10_000);

    const error = await killed;
    const cliEnded = await waitForEvent(handle, after, (event) => event.type === 'session.ended' && event.session === cliStarted.session, 5_000);
    const goneAt = await gone;
    const killedAfterMs = error.at - expiresAt;
    const goneAfterMs = goneAt - expiresAt;
    console.log(`[mysql expiry] SLEEP(600) answered ${killedAfterMs} ms after expiresAt: ${error.value.errno ?? '?'} ${error.value.message}; `
      + `idle CLI session ended (${String(cliEnded.reason)}); lease user gone from mysql.user and the processlist ${goneAfterMs} ms after expiresAt`);
    expect(error.value).toMatchObject({ errno: 1927, sqlState: '70100', message: `Connection was killed: grant ${grant.id} expired` } satisfies Partial<ServerError>);
    expect(killedAfterMs).toBeGreaterThanOrEqual(-50);
    expect(killedAfterMs).toBeLessThan(2_000);
    expect(cliEnded.reason).toBe('grant_expired');
    expect(goneAfterMs).toBeLessThan(3_000);

    // The CLI, idle at expiry, was told why before the close: its next statement reports jitgate's ERR 1927.
    cli.stdin.end('select 1;\n');
    const cliResult = await cli.result;
    console.log(`[mysql expiry] the idle CLI's next statement: ${cliResult.stderr.trim().split('\n').at(-1) ?? ''}`);
    expect(cliResult.code).not.toBe(0);
    expect(cliResult.stderr).toMatch(new RegExp(`^ERROR 1927 \\(70100\\)(?: at line 1)?: Connection was killed: grant ${grant.id} expired$`, 'm'));

    // The idle mysql2 connection was told why before the close, and is unusable after it.
    expect(await idleError).toMatchObject({ code: 1927, fatal: true, message: `Connection was killed: grant ${grant.id} expired` });
    expect((await serverErrorOf(idle.query('select 2'))).message).toMatch(/closed state/);
    idle.destroy();

    expect(await waitForEvent(handle, after, (event) => event.type === 'credential.revoked' && event.grant === grant.id))
      .toMatchObject({ verified: true, username: leaseUser });
  });

  it('an API revoke ends a live session: the running statement gets ERR 1927 "… was revoked", the idle one gets it too, then the close', async () => {
    const { jitgate: instance, handle, target } = setup();
    const grant = await instance.instance.grant('clients-mysql', 'readwrite', '1h');
    const options = connectionOptions(target, { user: grant.id, password: grant.token });
    const busy = await mysql.createConnection(options);
    busy.on('error', () => undefined);
    const idle = mysqlCallback.createConnection(options);
    const idleClosed = new Promise<unknown>((resolve) => {
      idle.on('error', (error: Error & { code?: unknown }) => resolve(error.code ?? error.message));
      idle.on('end', () => resolve('end'));
    });
    await idle.promise().query('select 1');
    const leaseUser = await leaseUserOf(grant.id);
    const running = timed(serverErrorOf(busy.query('select sleep(600)')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const gone = leaseUserGone(setup().admin, leaseUser, 10_000);
    const revokedAt = Date.now();
    expect((await apiAs(handle.apiUrl, 'admin').post(`/v1/grants/${grant.id}/revoke`)).status).toBe(200);
    const error = await running;
    expect(await idleClosed).toBe(1927); // told before the close: ERR 1927 as the idle connection's 'error'
    const goneAt = await gone;
    console.log(`[mysql expiry] revoke: SLEEP(600) answered ${error.at - revokedAt} ms after the API call: ${error.value.errno ?? '?'} `
      + `${error.value.message}; lease user gone ${goneAt - revokedAt} ms after it`);
    expect(error.value).toMatchObject({ errno: 1927, sqlState: '70100', message: `Connection was killed: grant ${grant.id} was revoked` });
    expect(error.at - revokedAt).toBeLessThan(2_000);
    expect(goneAt - revokedAt).toBeLessThan(3_000);
    idle.destroy();
    busy.destroy();
  });
});
