// Temporary smoke test of the Postgres engine with a hand-made lease (replaced by the full suite once leases land).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTokenVerifiers } from '../../src/access/tokens.js';
import { newGrantId } from '../../src/access/ids.js';
import type { Grant } from '../../src/access/grant.js';
import { Secret } from '../../src/audit/secret.js';
import { PostgresEngine } from '../../src/engines/postgres/engine.js';
import { listen, type Listener } from '../../src/net/listener.js';
import { SessionRegistry } from '../../src/session/registry.js';
import { createLogger } from '../../src/log.js';
import { parseConfigText } from '../../src/config/load.js';
import type { AuditEventInput } from '../../src/audit/events.js';
import { pgAdminUrl } from '../support/databases.js';

const run = promisify(execFile);
let listener: Listener;
let grant: Grant;
let token: string;
const events: AuditEventInput[] = [];
const role = `jg_smoke_${randomBytes(4).toString('hex')}`;
const password = randomBytes(12).toString('hex');

beforeAll(async () => {
  const admin = new URL(pgAdminUrl());
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  await client.query(`create role "${role}" login password '${password}'`);
  await client.end();
  const config = parseConfigText(`
resources:
  - { name: smoke, protocol: postgres, host: 127.0.0.1, port: ${admin.port}, database: postgres, tls: { mode: disable },
      admin: { user: postgres }, roles: { readonly: { max_ttl: 1h, creation_statements: ["select 1"] } } }
`, { env: {} });
  const resource = config.resources[0];
  token = randomBytes(32).toString('base64url');
  const now = new Date();
  grant = { id: newGrantId(), resource: 'smoke', role: 'readonly', requester: 'dev', reason: '', policy: 'p', state: 'approved', endReason: null,
    ttlSeconds: 3600, approvalsRequired: 0, approverGroups: [], createdAt: now, approvedAt: now, activatedAt: null,
    expiresAt: new Date(now.getTime() + 3_600_000), endedAt: null, verifiers: await makeTokenVerifiers(token), decisions: [], version: 1 };
  const logger = createLogger('warn');
  const engine = new PostgresEngine({
    grants: { lookup: async (id) => (id === grant.id ? grant : undefined), activate: async () => {}, allowsAddress: () => true },
    leases: { acquire: async (g) => ({ leaseId: 'x', broker: 'builtin', grantId: g.id, resource: 'smoke', role: 'readonly', username: role, password: new Secret(password), expiresAt: g.expiresAt }), released: () => {} },
    audit: { emit: async (event) => { events.push(event); }, accepting: () => true, flush: async () => {}, close: async () => {} },
    sessions: new SessionRegistry(),
    sessionRecords: { insertSession: async () => {}, updateSession: async () => {} },
    resources: (name) => (name === 'smoke' ? resource : undefined),
    logger, shutdown: new AbortController().signal, tls: { context: undefined, require: false },
    maxMessageBytes: 64 * 1024 * 1024, maxAuditSqlBytes: 1024 * 1024, warnBeforeMs: 60_000, parameters: 'full', mockSecretKey: randomBytes(32),
  });
  listener = await listen('127.0.0.1:0', 'postgres', (socket) => engine.handleConnection(socket), logger);
});

afterAll(async () => {
  await listener?.close();
});

describe('postgres engine smoke', () => {
  it('psql runs queries through jitgate and they are audited', async () => {
    const { stdout } = await run('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(listener.address.port), '-U', grant.id, '-d', 'postgres',
      '-c', 'select 1 + 1', '-c', 'select current_user; select 3'], { env: { ...process.env, PGPASSWORD: token, PGSSLMODE: 'disable' } });
    expect(stdout.trim().split('\n')).toEqual(['2', role, '3']);
    const statements = events.filter((e) => e.type === 'statement');
    expect(statements.map((e) => (e as { sql: string }).sql)).toEqual(['select 1 + 1', 'select current_user', 'select 3']);
  });

  it('pg with parameters and prepared statements', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: listener.address.port, user: grant.id, password: token, database: 'postgres' });
    await client.connect();
    const result = await client.query('select $1::int + $2::int as sum', [2, 3]);
    expect(result.rows).toEqual([{ sum: 5 }]);
    const named = await client.query({ name: 'q1', text: 'select $1::text as t', values: ['hi'] });
    expect(named.rows).toEqual([{ t: 'hi' }]);
    await expect(client.query('select * from nope')).rejects.toMatchObject({ code: '42P01' });
    await client.end();
    const last = events.filter((e) => e.type === 'statement').slice(-3) as { sql: string; params?: unknown; error?: unknown }[];
    expect(last[0]).toMatchObject({ sql: 'select $1::int + $2::int as sum', params: ['2', '3'] });
    expect(last[2]).toMatchObject({ sql: 'select * from nope', error: { code: '42P01' } });
  });

  it('a wrong token gets 28P01', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: listener.address.port, user: grant.id, password: 'nope', database: 'postgres' });
    await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
  });
});
