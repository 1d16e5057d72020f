// TLS on both legs (issue 5, acceptance 5): a CA made here signs jitgate's listener certificate and the certificate of
// a PostgreSQL started with ssl=on. Clients connect with sslmode=require and verify-full (psql and pg); with
// `tls.require` a plaintext client gets FATAL 08004; upstream, resources in verify-full and require mode reach the
// server over TLS (pg_stat_ssl shows the lease user's backend encrypted), and a CA that did not sign it is refused.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import type { ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { adminQuery, createScratchDatabaseOn, startOwnPostgres } from '../support/pg-own-server.js';
import { psqlEnvFor, READWRITE_ROLE_STATEMENTS } from '../support/pg-target.js';
import type { ThrowawayPostgres } from '../support/servers/postgres.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

const run = promisify(execFile);
let ca: TestCa;
let otherCa: TestCa;
let server: ThrowawayPostgres;
let db: ScratchDatabase;
let instance: JitgateInstance;
let port = 0;
const grants: Record<string, { id: string; token: string }> = {};

/** The scratch database's admin URL with another host name (the certificate names localhost and 127.0.0.1). */
const onHost = (url: string, host: string): string => {
  const out = new URL(url);
  out.hostname = host;
  return out.toString();
};

beforeAll(async () => {
  ca = await makeTestCa();
  otherCa = await makeTestCa('a CA nobody trusts here');
  const leaf = await ca.issue('localhost', ['DNS:localhost', 'IP:127.0.0.1']);
  server = await startOwnPostgres({ tls: { cert: leaf.cert, key: leaf.key } });
  db = await createScratchDatabaseOn(server.adminUrl, 'tls');
  const roles = { readwrite: { creation: READWRITE_ROLE_STATEMENTS } };
  instance = await startJitgateInstance([
    { name: 'tls-full', protocol: 'postgres', adminUrl: onHost(db.url, 'localhost'), roles, tls: `{ mode: verify-full, ca: "\${file:${ca.caPath}}" }` },
    { name: 'tls-full-ip', protocol: 'postgres', adminUrl: db.url, roles, tls: `{ mode: verify-full, ca: "\${file:${ca.caPath}}" }` },
    { name: 'tls-require', protocol: 'postgres', adminUrl: db.url, roles, tls: '{ mode: require }' },
    { name: 'tls-untrusted', protocol: 'postgres', adminUrl: onHost(db.url, 'localhost'), roles, tls: `{ mode: verify-full, ca: "\${file:${otherCa.caPath}}" }` },
  ], { extraYaml: `tls: { cert: "\${file:${leaf.certPath}}", key: "\${file:${leaf.keyPath}}", require: true }` });
  port = instance.handle.endpointFor('postgres').port;
  for (const name of ['tls-full', 'tls-full-ip', 'tls-require', 'tls-untrusted']) grants[name] = await instance.grant(name, 'readwrite', '1h');
}, 60_000);

afterAll(async () => {
  await instance?.close();
  await db?.drop();
  await server?.stop();
  await ca?.remove();
  await otherCa?.remove();
});

const grantOf = (resource: string): { id: string; token: string } => {
  const grant = grants[resource];
  if (grant === undefined) throw new Error(`no grant for ${resource}`);
  return grant;
};

/** psql -At with the grant of `resource`, the given libpq settings on top. */
async function psql(resource: string, settings: NodeJS.ProcessEnv, ...commands: string[]): Promise<{ code: number; out: string; err: string }> {
  const grant = grantOf(resource);
  const env = { ...psqlEnvFor({ host: '127.0.0.1', port, user: grant.id, password: grant.token, database: db.name }), LC_ALL: 'C.UTF-8', ...settings };
  try {
    const { stdout, stderr } = await run('psql', ['-X', '-At', ...commands.flatMap((command) => ['-c', command])], { env, timeout: 15_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: failed.stdout ?? '', err: failed.stderr ?? '' };
  }
}

const UPSTREAM_SSL = 'select ssl from pg_stat_ssl where pid = pg_backend_pid()';

describe('client TLS', () => {
  it('a plaintext client is refused with FATAL 08004 when tls.require is set', async () => {
    const grant = grantOf('tls-full');
    const client = new pg.Client({ host: '127.0.0.1', port, user: grant.id, password: grant.token, database: db.name, ssl: false });
    await expect(client.connect()).rejects.toMatchObject({ code: '08004', message: 'jitgate requires TLS for this connection' });
    const refused = await psql('tls-full', { PGSSLMODE: 'disable' }, 'select 1');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('FATAL:  jitgate requires TLS for this connection');
  });

  it('psql sslmode=require: an encrypted session through jitgate', async () => {
    const result = await psql('tls-full', { PGSSLMODE: 'require' }, '\\conninfo', UPSTREAM_SSL);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/^SSL connection \(protocol: TLSv1\.[23],/m);
    expect(result.out.trim().split('\n').at(-1)).toBe('t');
  });

  it('psql sslmode=verify-full with the test CA, by name and by IP; a name the certificate lacks is refused', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const result = await psql('tls-full', { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca.caPath, PGHOST: host }, 'select 1');
      expect({ host, ...result }).toEqual({ host, code: 0, out: '1\n', err: '' });
    }
    const wrongName = await psql('tls-full', { PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca.caPath, PGHOST: 'wrong.example', PGHOSTADDR: '127.0.0.1' }, 'select 1');
    expect(wrongName.code).toBe(2);
    expect(wrongName.err).toMatch(/server certificate for "localhost" \(and 1 other name\) does not match host name "wrong\.example"/);
    const untrusted = await psql('tls-full', { PGSSLMODE: 'verify-full', PGSSLROOTCERT: otherCa.caPath }, 'select 1');
    expect(untrusted.code).toBe(2);
    expect(untrusted.err).toContain('certificate verify failed');
  });

  it('node-postgres with ssl { ca } verifies the certificate; the session is recorded as TLS', async () => {
    const grant = grantOf('tls-full');
    const client = new pg.Client({ host: 'localhost', port, user: grant.id, password: grant.token, database: db.name, ssl: { ca: ca.ca, rejectUnauthorized: true } });
    await client.connect();
    expect((await client.query(UPSTREAM_SSL)).rows).toEqual([{ ssl: true }]);
    await client.end();
    const sessions = await instance.handle.store.listSessions({ grantId: grant.id as GrantId });
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((session) => session.tls)).toBe(true);
  });
});

describe('upstream TLS', () => {
  it.each(['tls-full', 'tls-full-ip', 'tls-require'])('%s: the lease user\'s backend is on SSL in pg_stat_ssl', async (resource) => {
    const grant = grantOf(resource);
    const client = new pg.Client({ host: 'localhost', port, user: grant.id, password: grant.token, database: db.name, ssl: { ca: ca.ca } });
    await client.connect();
    try {
      const lease = await instance.handle.store.getLeaseByGrant(grant.id as GrantId);
      // This client's backend: earlier clients of the grant may have left reset server connections parked.
      const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid ?? -1;
      const rows = await adminQuery<{ ssl: boolean; version: string }>(server.adminUrl,
        `select s.ssl, s.version from pg_stat_ssl s join pg_stat_activity a using (pid) where a.usename = '${lease?.username ?? ''}' and pid = ${pid}`);
      expect(rows.length).toBe(1);
      expect(rows[0]).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) as unknown });
    } finally {
      await client.end();
    }
  });

  it('verify-full with a CA that did not sign the server\'s certificate: the client is refused, nothing connects', async () => {
    const grant = grantOf('tls-untrusted');
    const client = new pg.Client({ host: 'localhost', port, user: grant.id, password: grant.token, database: db.name, ssl: { ca: ca.ca } });
    client.on('error', () => {});
    const error = await client.connect().then(() => undefined, (caught: unknown) => caught as { code?: string; message?: string });
    expect(error?.code).toBe('08006');
    expect(error?.message).toMatch(/certificate/i);
    await client.end().catch(() => {});
  });
});
