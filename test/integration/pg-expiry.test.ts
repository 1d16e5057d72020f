// Expiry and revocation on the Postgres port (issue 5, acceptance 4; DESIGN §4): an idle client is warned
// `warn_before` ahead, then told FATAL 57P01 "grant … expired"; a running pg_sleep(600) is cancelled at expiry; the
// lease user is gone from pg_roles and pg_stat_activity about a second later; `revoke` ends sessions at once.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { apiAs } from '../support/api-client.js';
import { createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { preparePgScratchDatabase, psqlEnvFor, READWRITE_ROLE_STATEMENTS } from '../support/pg-target.js';
import { adminQuery } from '../support/pg-own-server.js';

let db: ScratchDatabase;
let instance: JitgateInstance;
let port = 0;

const TTL_SECONDS = 8;
const WARN_BEFORE_SECONDS = 5;

beforeAll(async () => {
  db = await createPgDatabase('expiry');
  await preparePgScratchDatabase(db);
  instance = await startJitgateInstance([{
    name: 'expiry-pg', protocol: 'postgres', adminUrl: db.url, roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS } },
  }], { warnBefore: `${WARN_BEFORE_SECONDS}s` });
  port = instance.handle.endpointFor('postgres').port;
});

afterAll(async () => {
  await instance?.close();
  await db?.drop();
});

interface Observed {
  notices: { at: number; message: string }[];
  errors: { at: number; code: string; message: string }[];
  endedAt?: number;
}

/** A connected pg client whose notices, connection errors and end are timestamped. */
async function observedClient(grant: { id: string; token: string }): Promise<{ client: pg.Client; seen: Observed }> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: grant.id, password: grant.token, database: db.name });
  const seen: Observed = { notices: [], errors: [] };
  client.on('notice', (notice) => seen.notices.push({ at: Date.now(), message: notice.message ?? '' }));
  client.on('error', (error) => seen.errors.push({ at: Date.now(), code: String((error as { code?: unknown }).code), message: error.message }));
  client.on('end', () => { seen.endedAt = Date.now(); });
  await client.connect();
  await client.query('select 1');
  return { client, seen };
}

/** What a query's promise settled to, and when. */
const settled = (promise: Promise<unknown>): Promise<{ at: number; code: string; message: string }> => promise.then(
  () => ({ at: Date.now(), code: 'no error', message: '' }),
  (error: { code?: unknown; message?: unknown }) => ({ at: Date.now(), code: String(error.code), message: String(error.message) }));

async function leaseUserOf(grantId: string): Promise<string> {
  const lease = await instance.handle.store.getLeaseByGrant(grantId as GrantId);
  if (lease === undefined) throw new Error(`grant ${grantId} has no lease`);
  return lease.username;
}

/** Polls until the user has neither a role nor a backend; returns when that was first true. */
async function goneAt(user: string, timeoutMs: number): Promise<{ roleGoneAt: number; backendsGoneAt: number }> {
  let roleGoneAt: number | undefined;
  let backendsGoneAt: number | undefined;
  const deadline = Date.now() + timeoutMs;
  while ((roleGoneAt === undefined || backendsGoneAt === undefined) && Date.now() < deadline) {
    const [row] = await adminQuery<{ roles: number; backends: number }>(db.url,
      `select (select count(*)::int from pg_roles where rolname = '${user}') as roles,
              (select count(*)::int from pg_stat_activity where usename = '${user}') as backends`);
    const now = Date.now();
    if (row?.roles === 0) roleGoneAt ??= now;
    if (row?.backends === 0) backendsGoneAt ??= now;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (roleGoneAt === undefined || backendsGoneAt === undefined) throw new Error(`${user} still there after ${timeoutMs} ms`);
  return { roleGoneAt, backendsGoneAt };
}

describe('grant end on the Postgres port', () => {
  it('revoke ends an idle and a busy session with FATAL 57P01 "grant … revoked"', async () => {
    const grant = await instance.grant('expiry-pg', 'readwrite', '10m');
    const idle = await observedClient(grant);
    const busy = await observedClient(grant);
    const sleeping = settled(busy.client.query('select pg_sleep(600)'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const user = await leaseUserOf(grant.id);
    const revokedAt = Date.now();
    expect((await apiAs(instance.handle.apiUrl, 'admin').post(`/v1/grants/${grant.id}/revoke`)).status).toBe(200);
    const outcome = await sleeping;
    const gone = await goneAt(user, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    console.log(`[expiry] revoke: busy query failed ${outcome.code} after ${outcome.at - revokedAt} ms, idle told `
      + `${idle.seen.errors.map((e) => e.code).join(',')}; user gone ${gone.roleGoneAt - revokedAt} ms, backends ${gone.backendsGoneAt - revokedAt} ms`);
    expect(idle.seen.errors[0]).toMatchObject({ code: '57P01', message: `grant ${grant.id} revoked` });
    expect(['57014', '57P01']).toContain(outcome.code);
    expect(outcome.at - revokedAt).toBeLessThan(2_000);
    expect(idle.seen.endedAt).toBeDefined();
    expect(busy.seen.endedAt).toBeDefined();
  });

  it('at expiry: warning to idle clients, FATAL 57P01, pg_sleep cancelled, lease user gone about a second later', async () => {
    const grant = await instance.grant('expiry-pg', 'readwrite', `${TTL_SECONDS}s`);
    const expiresAt = Date.parse(grant.expiresAt);
    const idle = await observedClient(grant);
    const busy = await observedClient(grant);
    const sleeping = settled(busy.client.query('select pg_sleep(600)'));
    // psql, interactive over a pipe: it reads the server only when it sends, so it shows the warning and the FATAL
    // that wait in its socket when the next line is typed after the end.
    const psql = spawn('psql', ['-X', '-v', 'ON_ERROR_STOP=0'], { env: { ...psqlEnvFor({ host: '127.0.0.1', port, user: grant.id, password: grant.token, database: db.name }), PGSSLMODE: 'disable', LC_ALL: 'C.UTF-8' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let psqlOut = '';
    psql.stdout.on('data', (chunk: Buffer) => { psqlOut += chunk.toString(); });
    psql.stderr.on('data', (chunk: Buffer) => { psqlOut += chunk.toString(); });
    psql.stdin.write('select 1 as psql_ready;\n');
    const user = await leaseUserOf(grant.id);

    const gone = await goneAt(user, TTL_SECONDS * 1_000 + 6_000);
    const outcome = await sleeping;
    psql.stdin.end('select 2 as after_expiry;\n');
    const psqlCode = await new Promise<number | null>((resolve) => psql.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const warning = idle.seen.notices[0];
    const after = (at: number | undefined): string => (at === undefined ? 'never' : `${at - expiresAt} ms`);
    console.log(`[expiry] warning ${warning ? `${((expiresAt - warning.at) / 1000).toFixed(1)} s before expiry: "${warning.message}"` : 'none'}; `
      + `idle FATAL ${idle.seen.errors.map((e) => `${e.code} at ${after(e.at)}`).join(',')}; `
      + `pg_sleep ${outcome.code} at ${after(outcome.at)}, closed at ${after(busy.seen.endedAt)}; `
      + `lease user gone from pg_roles at ${after(gone.roleGoneAt)}, from pg_stat_activity at ${after(gone.backendsGoneAt)} (after expiresAt)`);
    console.log(`[expiry] psql (exit ${psqlCode}):\n${psqlOut.trimEnd()}`);

    expect(warning?.message).toBe(`grant ${grant.id} expires in ${WARN_BEFORE_SECONDS}s`);
    expect(Math.abs(expiresAt - (warning?.at ?? 0) - WARN_BEFORE_SECONDS * 1_000)).toBeLessThan(1_000);
    expect(idle.seen.errors[0]).toMatchObject({ code: '57P01', message: `grant ${grant.id} expired` });
    expect(['57014', '57P01']).toContain(outcome.code);
    expect(outcome.at - expiresAt).toBeLessThan(2_000);
    expect((busy.seen.endedAt ?? Infinity) - expiresAt).toBeLessThan(2_500);
    expect(gone.roleGoneAt - expiresAt).toBeLessThan(3_000);
    expect(gone.backendsGoneAt - expiresAt).toBeLessThan(3_000);
    expect(psqlOut).toContain('psql_ready');
    expect(psqlOut).toContain(`WARNING:  grant ${grant.id} expires in ${WARN_BEFORE_SECONDS}s`);
    expect(psqlOut).toContain(`FATAL:  grant ${grant.id} expired`);
    expect(psqlOut).not.toContain('after_expiry\n');
  }, 30_000);
});
