// The review commands of the CLI (issue 8, acceptance 3) as child processes of bin/jitgate.js against a served
// jitgate (real HTTP port) that recorded a Postgres session (pg) and a MySQL session (mysql2) through its wire ports:
// sessions (table, filters, JSON), sessions show (grant and timeline), --follow on a live session, export, audit search.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDatabase, createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { preparePgScratchDatabase, READWRITE_ROLE_STATEMENTS } from '../support/pg-target.js';
import { TEST_KEYS } from '../support/test-config.js';
import { CSV_COLUMNS } from '../../src/api/routes/session-export.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'jitgate.js');

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string }

let instance: JitgateInstance;
let pgDb: ScratchDatabase;
let myDb: ScratchDatabase;
let pgGrant: string;
let pgToken: string;
let pgSession = '';
let mySession = '';

function jitgate(args: readonly string[], key: keyof typeof TEST_KEYS = 'admin', onOutput?: (stdout: string, stderr: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT, env: { ...process.env, JITGATE_URL: instance.handle.apiUrl, JITGATE_API_KEY: TEST_KEYS[key] }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); onOutput?.(stdout, stderr); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); onOutput?.(stdout, stderr); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const pgClient = (database: string, id: string, token: string, program: string) => {
  const endpoint = instance.handle.endpointFor('postgres');
  return new pg.Client({ host: endpoint.host, port: endpoint.port, user: id, password: token, database, application_name: program, ssl: false });
};

async function waitForEnded(sessionCount: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ended = (await instance.handle.store.listSessions({ active: false })).length;
    if (ended >= sessionCount) return;
    if (Date.now() > deadline) throw new Error(`only ${ended} of ${sessionCount} sessions recorded as ended`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  [pgDb, myDb] = await Promise.all([createPgDatabase('review_cli'), createMysqlDatabase('review_cli')]);
  await preparePgScratchDatabase(pgDb);
  instance = await startJitgateInstance([
    { name: 'cli-pg', protocol: 'postgres', adminUrl: pgDb.url, roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS } } },
    { name: 'cli-mysql', protocol: 'mysql', adminUrl: myDb.url, roles: { readwrite: { creation: [
      `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'`, `GRANT ALL PRIVILEGES ON \`${myDb.name}\`.* TO '{{name}}'@'%'`,
    ] } } },
  ]);
  const grant = await instance.grant('cli-pg', 'readwrite');
  pgGrant = grant.id;
  pgToken = grant.token;
  const client = pgClient(pgDb.name, grant.id, grant.token, 'review-cli-pg');
  await client.connect();
  await client.query('create table items (id int primary key, name text)');
  await client.query('insert into items values ($1, $2)', [1, 'a,b "c"']);
  await client.query('select * from items');
  await expect(client.query('select 1/0')).rejects.toThrow('division by zero');
  await client.end();

  const myGrant = await instance.grant('cli-mysql', 'readwrite');
  const endpoint = instance.handle.endpointFor('mysql');
  const connection = await mysql.createConnection({ host: endpoint.host, port: endpoint.port, user: myGrant.id, password: myGrant.token, database: myDb.name });
  await connection.query('create table m (id int)');
  await connection.query('insert into m values (1), (2)');
  await connection.execute('select id from m where id = ?', [2]);
  await expect(connection.query('select no_such_column from m')).rejects.toThrow(/no_such_column/);
  await connection.end();
  await waitForEnded(2);
  await instance.handle.audit.flush();
  for (const session of await instance.handle.store.listSessions()) {
    if (session.protocol === 'postgres') pgSession = session.id;
    else mySession = session.id;
  }
}, 60_000);

afterAll(async () => {
  await instance?.close();
  await Promise.all([pgDb?.drop(), myDb?.drop()]);
});

const columnsOf = (line: string | undefined): string[] => (line ?? '').split(/\s{2,}/);

describe('jitgate sessions', () => {
  it('prints an aligned table: id, user, resource, role, client, started, duration, statements, end reason', async () => {
    const result = await jitgate(['sessions']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(columnsOf(header)).toEqual(['ID', 'USER', 'RESOURCE', 'ROLE', 'CLIENT', 'STARTED', 'DURATION', 'STATEMENTS', 'END REASON']);
    const starts = (text: string) => header?.indexOf(text) ?? -1;
    for (const row of rows) expect(row.slice(starts('USER'), starts('USER') + 3)).toBe('dev'); // aligned under its header
    const pgRow = columnsOf(rows.find((row) => row.startsWith(pgSession)));
    expect(pgRow).toEqual([pgSession, 'dev', 'cli-pg', 'readwrite', expect.stringMatching(/^127\.0\.0\.1:\d+ \(review-cli-pg\)$/),
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/), expect.stringMatching(/^\d+s$/), '4', 'client_closed']);
    expect(columnsOf(rows.find((row) => row.startsWith(mySession))).slice(1, 4)).toEqual(['dev', 'cli-mysql', 'readwrite']);
  });

  it('filters by resource, grant, time and state, and prints JSON', async () => {
    const json = async (args: string[]) => (JSON.parse((await jitgate(['sessions', ...args, '--json'])).stdout) as { id: string }[]).map((s) => s.id);
    const [byResource, byGrant, since, until, active, limited] = await Promise.all([
      json(['--resource', 'cli-mysql']), json(['--grant', pgGrant]), json(['--since', '1h']), json(['--until', '2000-01-01T00:00:00Z']),
      json(['--active']), json(['--limit', '1']),
    ]);
    expect(byResource).toEqual([mySession]);
    expect(byGrant).toEqual([pgSession]);
    expect(since.sort()).toEqual([mySession, pgSession].sort());
    expect(until).toEqual([]);
    expect(active).toEqual([]);
    expect(limited).toHaveLength(1);
  });
});

describe('jitgate sessions show', () => {
  it('prints the grant and the Postgres timeline: offset, duration, result or error, SQL, parameters', async () => {
    const result = await jitgate(['sessions', 'show', pgSession]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(new RegExp(`^  grant +${pgGrant}  cli-pg / readwrite, active$`, 'm'));
    expect(out).toMatch(/^ {2}requester +dev$/m);
    expect(out).toMatch(/^ {2}reason +integration test$/m);
    expect(out).toMatch(/^ {2}approvers +auto \(policy dev-any\)$/m);
    expect(out).toMatch(/^ {2}window +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ → .+ \(expires\)$/m);
    expect(out).toMatch(/^ {2}statements +4$/m);
    const lines = out.split('\n');
    const header = lines.findIndex((line) => line.startsWith('OFFSET'));
    expect(columnsOf(lines[header])).toEqual(['OFFSET', 'DURATION', 'RESULT', 'SQL', 'PARAMS']);
    const timeline = lines.slice(header + 1, header + 5).map(columnsOf);
    expect(timeline.map((row) => row.slice(2, 4))).toEqual([
      ['CREATE TABLE (0 rows)', 'create table items (id int primary key, name text)'],
      ['INSERT 0 1 (1 row)', 'insert into items values ($1, $2)'],
      ['SELECT 1 (1 row)', 'select * from items'],
      ['ERROR 22012: division by zero', 'select 1/0'],
    ]);
    expect(timeline[1]?.[4]).toBe('["1","a,b \\"c\\""]');
    for (const row of timeline) expect(row[0]).toMatch(/^\+\d+\.\d{3}s$/);
  });

  it('prints a MySQL session as JSON with prepared-statement parameters decoded', async () => {
    const result = await jitgate(['sessions', 'show', mySession, '--json']);
    expect(result.code).toBe(0);
    const session = JSON.parse(result.stdout) as { statements: { kind: string; sql: string; params?: string[]; error?: { code: string } }[] };
    const execute = session.statements.find((statement) => statement.kind === 'stmt_execute');
    expect(execute).toMatchObject({ sql: 'select id from m where id = ?', params: ['2'] });
    expect(session.statements.find((statement) => statement.error)?.error?.code).toBe('1054');
  });

  it('follows a live session until it ends', async () => {
    const client = pgClient(pgDb.name, pgGrant, pgToken, 'review-cli-follow');
    await client.connect();
    await client.query("select 'before-follow'");
    await instance.handle.audit.flush();
    const [live] = await instance.handle.store.listSessions({ active: true });
    let queried = false;
    const result = await jitgate(['sessions', 'show', live?.id ?? '', '--follow'], 'admin', (stdout, stderr) => {
      if (!queried && stderr.includes('following')) {
        queried = true;
        void client.query("select 'followed-42'").then(() => new Promise((resolve) => setTimeout(resolve, 300))).then(() => client.end());
      }
      void stdout;
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("select 'before-follow'");
    expect(result.stdout).toMatch(/^\+\d+\.\d{3}s +\d+\.\dms +SELECT 1 \(1 row\) +select 'followed-42'$/m);
    expect(result.stderr).toContain('session ended: client_closed');
  });
});

describe('jitgate sessions export and audit search', () => {
  it('exports CSV with one quoted-as-needed row per statement, and JSON with the grant', async () => {
    const csv = await jitgate(['sessions', 'export', pgSession, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.filter((line) => line.startsWith(pgSession))).toHaveLength(4);
    expect(csv.stdout).toContain(',"insert into items values ($1, $2)","[""1"",""a,b \\""c\\""""]"\r\n');
    const json = await jitgate(['sessions', 'export', mySession, '--format', 'json']);
    const body = JSON.parse(json.stdout) as { session: { id: string }; grant: { requester: string }; statements: unknown[] };
    expect(body.session.id).toBe(mySession);
    expect(body.grant.requester).toBe('dev');
    expect(body.statements.length).toBeGreaterThanOrEqual(4);
  });

  it('audit search finds statements across both protocols, newest first; a requester is refused', async () => {
    const [result, items, refused] = await Promise.all([
      jitgate(['audit', 'search', 'FROM M WHERE']), jitgate(['audit', 'search', 'items', '--json']), jitgate(['audit', 'search', 'items'], 'dev'),
    ]);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(columnsOf(header)).toEqual(['TIME', 'USER', 'RESOURCE', 'SESSION', 'RESULT', 'SQL']);
    // The prepared statement's text shows up twice: COM_STMT_PREPARE, then COM_STMT_EXECUTE with its parameter.
    expect(rows.map((row) => columnsOf(row).slice(1, 4))).toEqual([['dev', 'cli-mysql', mySession], ['dev', 'cli-mysql', mySession]]);
    expect(rows[0]).toMatch(/\(1 row\) +select id from m where id = \?$/);
    expect((JSON.parse(items.stdout) as { sql: string }[]).map((hit) => hit.sql)).toEqual([
      'select * from items', 'insert into items values ($1, $2)', 'create table items (id int primary key, name text)',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\(403 forbidden\)/);
  });
});
