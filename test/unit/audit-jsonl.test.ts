import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as NodeFs from 'node:fs';
import { fsync } from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchingAuditLog } from '../../src/audit/audit-log.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { GENESIS_HASH } from '../../src/audit/chain.js';
import type { AuditEvent, AuditEventInput } from '../../src/audit/events.js';
import { JsonlAuditSink } from '../../src/audit/sinks/jsonl-sink.js';
import type { AuditDurability } from '../../src/audit/sinks/sink.js';
import { StoreAuditSink } from '../../src/audit/sinks/store-sink.js';
import type { StoredAuditEvent } from '../../src/store/store.js';
import { chainedBatch, MemoryAuditStore } from '../support/memory-audit-store.js';

// Pass-through spy: shows the sink fsyncs (asynchronously) exactly when durability asks for it.
vi.mock('node:fs', async (importOriginal) => {
  const original = await importOriginal<typeof NodeFs>();
  return { ...original, fsync: vi.fn(original.fsync) };
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jitgate-audit-'));
  vi.mocked(fsync).mockClear();
});
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function openLog(file: string, durability: AuditDurability): Promise<{ log: BatchingAuditLog; store: MemoryAuditStore; opsLog: string[] }> {
  const opsLog: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { opsLog.push(line); } });
  const store = new MemoryAuditStore();
  const stream = await JsonlAuditSink.open({ file, logger });
  const log = new BatchingAuditLog({
    store: new StoreAuditSink(store), stream, durability, onFailure: 'block', batchMaxEvents: 64, batchMaxDelayMs: 1, logger,
  });
  return { log, store, opsLog };
}

const alert = (n: number): AuditEventInput => ({ type: 'alert', severity: 'warning', message: `event ${n}` });

describe('JsonlAuditSink', () => {
  it.each(['fsync', 'os'] as const)('under %s, a line is readable once emit resolved', async (durability) => {
    const file = join(dir, 'audit.jsonl');
    const { log, store } = await openLog(file, durability);
    await log.emit(alert(1));
    const [line] = await readLines(file);
    const [row] = store.rows;
    expect(line).toEqual({
      jitgate: 'audit.v1',
      chain: { seq: 1, prev: GENESIS_HASH, hash: row?.hash },
      id: row?.id, ts: row?.ts.toISOString(), type: 'alert', severity: 'warning', message: 'event 1',
    });
    await log.emit(alert(2));
    expect(await readLines(file)).toHaveLength(2);
    expect(vi.mocked(fsync)).toHaveBeenCalledTimes(durability === 'fsync' ? 2 : 0);
    await log.close();
  });

  it('writes lines whose event part is exactly the stored body', async () => {
    const file = join(dir, 'audit.jsonl');
    const { log, store } = await openLog(file, 'fsync');
    await Promise.all(Array.from({ length: 200 }, (_, n) => log.emit(alert(n))));
    await log.emit({ type: 'session.started', session: 's_1', grant: 'g_1', resource: 'db', protocol: 'postgres', user: 'u', client: '127.0.0.1:5', tls: true });
    const lines = await readLines(file);
    expect(lines).toHaveLength(201);
    lines.forEach((line, index) => {
      const { jitgate: _format, chain, ...event } = line;
      const row = store.rows[index];
      expect(chain).toEqual({ seq: row?.seq, prev: row?.prev, hash: row?.hash });
      expect(canonicalJson(event)).toBe(row?.body);
    });
    await log.close();
  });

  it('never lets a token, password or PASSWORD literal into the file, the store or the operational log', async () => {
    const file = join(dir, 'audit.jsonl');
    const { log, store, opsLog } = await openLog(file, 'fsync');
    // Producers are typed, but a field added in a hurry must not leak either.
    const careless = { ...alert(1), token: 'tok_live_SECRET_1', nested: { password: 'hunter2_SECRET', Authorization: 'Bearer SECRET_3' } };
    await log.emit(careless);
    await log.emit({ type: 'statement', session: 's_1', grant: 'g_1', seq: 1, kind: 'query', sql: "CREATE ROLE r LOGIN PASSWORD 'SECRET_4'", started: '2024-05-01T12:00:00.000Z', duration_us: 5 });
    await log.close();
    const everything = [await readFile(file, 'utf8'), ...store.rows.map((row) => row.body), ...opsLog].join('\n');
    expect(everything).not.toMatch(/SECRET/);
    expect(await readFile(file, 'utf8')).toContain('"token":"[redacted]"');
  });

  it('censors secret members even when handed an unredacted event (the second net)', async () => {
    const file = join(dir, 'audit.jsonl');
    const sink = await JsonlAuditSink.open({ file });
    const event = { type: 'alert', id: 'e_x', ts: '2024-05-01T12:00:00.000Z', severity: 'warning', message: 'm', token: 'raw_SECRET', detail: { password: 'raw_SECRET' } };
    // The line is made from the stored body, so the unredacted event is what the body holds here.
    const record: StoredAuditEvent = { seq: 1, id: 'e_x', ts: new Date(event.ts), type: 'alert', grantId: null, sessionId: null, actor: null, body: canonicalJson(event), prev: GENESIS_HASH, hash: 'h' };
    await sink.write(...chainedBatch([record]), 'os');
    await sink.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('raw_SECRET');
    expect(JSON.parse(text)).toMatchObject({ token: '[redacted]', detail: { password: '[redacted]' } });
  });

  it('builds lines from the stored body: SQL that merely mentions secrets is kept, secret-named members are not', async () => {
    const file = join(dir, 'audit.jsonl');
    const sink = await JsonlAuditSink.open({ file });
    const sql = 'select \'{"password":"not_a_member","token":1}\'';
    const clean = { type: 'alert', id: 'e_a', ts: '2024-05-01T12:00:00.000Z', severity: 'warning', message: sql };
    const leaky = { ...clean, id: 'e_b', lease_password: 'raw_SECRET', accessToken: { nested: 'raw_SECRET' } };
    const record = (seq: number, event: object): StoredAuditEvent => ({ seq, id: 'e', ts: new Date(clean.ts), type: 'alert', grantId: null,
      sessionId: null, actor: null, body: canonicalJson(event), prev: GENESIS_HASH, hash: 'h' });
    await sink.write(...chainedBatch([record(1, clean), record(2, leaky)]), 'os');
    await sink.close();
    const [first, second] = await readLines(file);
    expect(first).toEqual({ jitgate: 'audit.v1', chain: { seq: 1, prev: GENESIS_HASH, hash: 'h' }, ...clean });
    expect(second).toMatchObject({ lease_password: '[redacted]', accessToken: '[redacted]', message: sql });
    expect(await readFile(file, 'utf8')).not.toContain('raw_SECRET');
  });

  it('does not repeat lines when a batch is retried after it was written', async () => {
    const file = join(dir, 'audit.jsonl');
    const sink = await JsonlAuditSink.open({ file });
    const event: AuditEvent = { type: 'alert', id: 'e_x', ts: '2024-05-01T12:00:00.000Z', severity: 'warning', message: 'm' };
    const record: StoredAuditEvent = { seq: 1, id: 'e_x', ts: new Date(event.ts), type: 'alert', grantId: null, sessionId: null, actor: null, body: '{}', prev: GENESIS_HASH, hash: 'h' };
    await sink.write(...chainedBatch([record]), 'fsync');
    await sink.write(...chainedBatch([record]), 'fsync');
    await sink.close();
    expect(await readLines(file)).toHaveLength(1);
  });

  it('creates missing parent directories', async () => {
    const file = join(dir, 'a', 'b', 'audit.jsonl');
    const { log } = await openLog(file, 'os');
    await log.emit(alert(1));
    await log.close();
    expect(await readLines(file)).toHaveLength(1);
  });

  it('fails to open a path it cannot create', async () => {
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, '');
    // EEXIST or ENOTDIR depending on the platform: either way open() refuses instead of starting broken.
    await expect(JsonlAuditSink.open({ file: join(blocker, 'audit.jsonl') })).rejects.toMatchObject({ code: expect.stringMatching(/^E[A-Z]+$/) });
  });

  it('opens and closes stdout without closing the descriptor', async () => {
    const sink = await JsonlAuditSink.open({ file: '-' });
    await sink.close();
    expect(process.stdout.writable).toBe(true);
  });
});
