// What list and detail commands print, built from API objects: pure row builders and the request --json shape.
import { describe, expect, it } from 'vitest';
import type { CreatedGrant, Grant } from '../../src/cli/api-schemas.js';
import { describeVerdict } from '../../src/cli/commands/audit.js';
import { mysqlCommand, mysqlOptionFile, psqlCommand } from '../../src/cli/commands/connect.js';
import { grantRows, resourceRows } from '../../src/cli/commands/grants.js';
import { requestJson } from '../../src/cli/commands/request.js';
import { sessionRows, statementRows } from '../../src/cli/commands/sessions.js';

const now = new Date('2025-01-31T12:00:00.000Z');
const minutesFromNow = (minutes: number): string => new Date(now.getTime() + minutes * 60_000).toISOString();

const connection = {
  protocol: 'mysql', host: 'localhost', port: 7306, user: 'g_abcdefghijklmnopqrst', password: 'tok-en', database: 'test',
  url: 'mysql://g_abcdefghijklmnopqrst:tok-en@localhost:7306/test',
} as const;

const grant: Grant = {
  id: 'g_abcdefghijklmnopqrst', resource: 'local-mysql', role: 'readonly', requester: 'dev', reason: 'INC-1', state: 'approved',
  approvalsRequired: 0, approvals: [], expiresAt: minutesFromNow(29.5), endedAt: null, extra: 1,
};

describe('grants and resources', () => {
  it('builds one row per grant', () => {
    expect(grantRows([grant, { ...grant, id: 'g_2', state: 'ended', endReason: 'expired', endedAt: minutesFromNow(-3), reason: '' }], now)).toEqual([
      ['g_abcdefghijklmnopqrst', 'local-mysql', 'readonly', 'dev', 'approved', 'in 29m', 'INC-1'],
      ['g_2', 'local-mysql', 'readonly', 'dev', 'ended (expired)', 'ended 3m ago', ''],
    ]);
  });

  it('lists roles with their max_ttl, whether given as text or seconds', () => {
    expect(resourceRows([{ name: 'pg', protocol: 'postgres', database: 'app', roles: [{ name: 'ro', max_ttl: '8h' }, { name: 'rw', max_ttl: 5_400 }, { name: 'x' }] }]))
      .toEqual([['pg', 'postgres', 'app', 'ro (8h), rw (1h30m), x']]);
  });
});

describe('request --json', () => {
  it('has exactly the documented fields, with state and expiry as last seen', () => {
    const created: CreatedGrant = { ...grant, state: 'pending', token: 'tok-en', connection };
    expect(requestJson(created, { ...grant, state: 'approved', expiresAt: 'later' })).toEqual({
      id: grant.id, state: 'approved', expiresAt: 'later', token: 'tok-en', connection,
    });
  });
});

describe('connect', () => {
  it('starts psql with the URL minus its password and the token in PGPASSWORD', () => {
    expect(psqlCommand({ ...connection, protocol: 'postgres', url: 'postgres://u:p@h:1/d' })).toEqual({
      programs: ['psql'], args: ['postgres://u@h:1/d'], env: { PGPASSWORD: 'tok-en' },
    });
  });

  it('starts mariadb over TCP with the option file first and no password among the arguments', () => {
    expect(mysqlCommand(connection, '/tmp/x/client.cnf')).toEqual({
      programs: ['mariadb', 'mysql'],
      args: ['--defaults-extra-file=/tmp/x/client.cnf', '--protocol=TCP', '-h', 'localhost', '-P', '7306', '-u', 'g_abcdefghijklmnopqrst', 'test'],
      env: {},
    });
    expect(mysqlCommand({ ...connection, database: '' }, '/f').args.at(-1)).toBe('g_abcdefghijklmnopqrst');
    expect(mysqlOptionFile('tok-en')).toBe('[client]\npassword="tok-en"\n');
    expect(() => mysqlOptionFile('a"b')).toThrow(/option file cannot carry/);
    expect(() => mysqlOptionFile('a\nb')).toThrow(/option file cannot carry/);
  });
});

describe('sessions', () => {
  it('builds session rows from the API view: id, user, resource, role, client, started, duration, statements, end reason', () => {
    expect(sessionRows([
      { id: 's_1', grant: 'g_1', resource: 'local-pg', role: 'readonly', user: 'dev', client: '127.0.0.1:5000', program: 'psql', startedAt: minutesFromNow(-10), endedAt: null, statements: 4, live: true },
      { id: 's_2', grantId: 'g_2', startedAt: minutesFromNow(-90), endedAt: minutesFromNow(-60), endReason: 'grant_expired' },
    ], now)).toEqual([
      ['s_1', 'dev', 'local-pg', 'readonly', '127.0.0.1:5000 (psql)', '2025-01-31 11:50:00Z', '10m', '4', 'open (live)'],
      ['s_2', '', '', '', '', '2025-01-31 10:30:00Z', '30m', '', 'grant_expired'],
    ]);
  });

  it('builds timeline rows: offset from the session start, duration, outcome, SQL, parameters', () => {
    const startedAt = minutesFromNow(-1);
    const at = (ms: number): string => new Date(Date.parse(startedAt) + ms).toISOString();
    expect(statementRows([
      { seq: 7, kind: 'query', sql: 'select 1', started: at(1_234), duration_us: 1234, rows: 1, tag: 'SELECT 1' },
      { seq: 8, kind: 'bind_execute', sql: 'insert …', started: at(60_000), duration_us: 50, params: ['42', null], error: { code: '23505', message: 'duplicate key' } },
    ], startedAt)).toEqual([
      ['+1.234s', '1.2ms', 'SELECT 1 (1 row)', 'select 1', ''],
      ['+60.000s', '0.1ms', 'ERROR 23505: duplicate key', 'insert …', '["42",null]'],
    ]);
  });
});

describe('audit verify wording', () => {
  it('reports an intact chain with its head and a broken one with the first break', () => {
    expect(describeVerdict({ ok: true, events: 12, head: { seq: 12, hash: 'ab'.repeat(32) } })).toBe(`audit chain OK: 12 events, head ${'ab'.repeat(32)}`);
    expect(describeVerdict({ ok: true, events: 0 })).toBe('audit chain OK: 0 events');
    expect(describeVerdict({ ok: false, events: 4, firstBroken: { seq: 5, id: 'e_x', reason: 'hash mismatch' } }))
      .toBe('audit chain BROKEN at event #5 (e_x): hash mismatch');
  });
});
