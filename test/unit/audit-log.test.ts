import pino, { type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditCloseTimeoutError, AuditLogClosedError, BatchingAuditLog, type BatchingAuditLogOptions } from '../../src/audit/audit-log.js';
import { verifyChain } from '../../src/audit/chain.js';
import type { AuditEventInput } from '../../src/audit/events.js';
import type { AuditDurability, AuditStreamSink } from '../../src/audit/sinks/sink.js';
import { StoreAuditSink } from '../../src/audit/sinks/store-sink.js';
import { storedFromAssignment, type AuditBatchColumns, type ChainAssignment } from '../../src/audit/records.js';
import type { StoredAuditEvent } from '../../src/store/store.js';
import { MemoryAuditStore } from '../support/memory-audit-store.js';

class RecordingStream implements AuditStreamSink {
  batches: StoredAuditEvent[][] = [];
  durabilities: AuditDurability[] = [];
  failuresLeft = 0;
  closed = false;
  /** How long a write takes: a slow disk, during which new events queue up. */
  delayMs = 0;

  async write(columns: AuditBatchColumns, assignment: ChainAssignment, durability: AuditDurability): Promise<void> {
    const batch = storedFromAssignment(columns, assignment);
    await (this.delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, this.delayMs)) : Promise.resolve());
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    }
    this.batches.push([...batch]);
    this.durabilities.push(durability);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  seqs(): number[] {
    return this.batches.flat().map((record) => record.seq);
  }
}

function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { raw.push(line); } });
  return { logger, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>), text: () => raw.join('') };
}

const alert = (n: number): AuditEventInput => ({ type: 'alert', severity: 'warning', message: `event ${n}` });

interface Fixture {
  readonly store: MemoryAuditStore;
  readonly stream: RecordingStream;
  readonly log: BatchingAuditLog;
  readonly logs: ReturnType<typeof capturingLogger>;
}

function fixture(options: Partial<BatchingAuditLogOptions> = {}): Fixture {
  const store = new MemoryAuditStore();
  const stream = new RecordingStream();
  const logs = capturingLogger();
  const log = new BatchingAuditLog({
    store: new StoreAuditSink(store), stream, durability: 'os', onFailure: 'block', batchMaxEvents: 100, batchMaxDelayMs: 2,
    logger: logs.logger, retryInitialDelayMs: 5, retryMaxDelayMs: 20, closeTimeoutMs: 2_000, ...options,
  });
  return { store, stream, log, logs };
}

const messages = (store: MemoryAuditStore): unknown[] => store.bodies().map((body) => body.message);

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
beforeEach(() => { unhandled = []; process.on('unhandledRejection', onUnhandled); });
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('BatchingAuditLog batching', () => {
  it('writes 1000 events in a few batches, in emit order, each promise resolving', async () => {
    const { store, stream, log } = fixture();
    const emitted = Array.from({ length: 1_000 }, (_, n) => log.emit(alert(n)));
    await Promise.all(emitted);
    expect(store.appendCalls).toBeLessThanOrEqual(20);
    expect(messages(store)).toEqual(Array.from({ length: 1_000 }, (_, n) => `event ${n}`));
    expect(stream.seqs()).toEqual(Array.from({ length: 1_000 }, (_, n) => n + 1));
    expect(log.stats()).toEqual({ queued: 0, written: 1_000, failures: 0 });
    expect((await verifyChain(store.rows)).ok).toBe(true);
  });

  it('collects events that arrive within the delay into one batch', async () => {
    const { store, log } = fixture({ batchMaxEvents: 1_000, batchMaxDelayMs: 20 });
    const emitted = Array.from({ length: 50 }, (_, n) => log.emit(alert(n)));
    await Promise.resolve();
    expect(store.appendCalls).toBe(0);
    await Promise.all(emitted);
    expect(store.appendCalls).toBe(1);
  });

  it('under a steady trickle and a slow sink commits about once per delay, not once per sink round trip', async () => {
    const { store, stream, log } = fixture({ batchMaxEvents: 1_000, batchMaxDelayMs: 25 });
    stream.delayMs = 3;
    const emitted: Promise<void>[] = [];
    const started = Date.now();
    while (Date.now() - started < 200) {
      emitted.push(log.emit(alert(emitted.length)));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(emitted);
    const elapsed = Date.now() - started;
    expect(emitted.length).toBeGreaterThan(50);
    expect(store.appendCalls).toBeLessThanOrEqual(Math.ceil(elapsed / 25) + 2);
    expect(messages(store)).toEqual(emitted.map((_, n) => `event ${n}`));
  });

  it('sends a full batch without waiting for the delay', async () => {
    const { store, log } = fixture({ batchMaxEvents: 10, batchMaxDelayMs: 60_000 });
    await Promise.all(Array.from({ length: 10 }, (_, n) => log.emit(alert(n))));
    expect(store.appendCalls).toBe(1);
  });

  it('fills id and ts, keeps given ones, and copies grant/session/actor into columns', async () => {
    const { store, log } = fixture();
    await log.emit(alert(1));
    await log.emit({ type: 'grant.denied', id: 'e_given00000000000000', ts: '2024-05-01T12:00:00Z', grant: 'g_1', actor: 'bob', comment: 'no' });
    const [first, second] = store.rows;
    expect(first?.id).toMatch(/^e_[a-z2-7]{20}$/);
    expect(Number.isNaN(first?.ts.getTime())).toBe(false);
    expect(second).toMatchObject({ id: 'e_given00000000000000', type: 'grant.denied', grantId: 'g_1', actor: 'bob', sessionId: null });
    expect(second?.ts.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(JSON.parse(second?.body ?? '{}')).toMatchObject({ ts: '2024-05-01T12:00:00.000Z' });
    expect((await verifyChain(store.rows)).ok).toBe(true);
  });

  it('redacts before chaining', async () => {
    const { store, log } = fixture();
    const withToken = { ...alert(1), token: 'tok_live_123', extra: { password: 'hunter2' } };
    await log.emit(withToken);
    await log.emit({ type: 'statement', session: 's_1', grant: 'g_1', seq: 1, kind: 'query', sql: "ALTER USER a PASSWORD 'hunter3'", started: '2024-05-01T12:00:00.000Z', duration_us: 5 });
    const bodies = store.rows.map((row) => row.body).join('\n');
    for (const secret of ['tok_live_123', 'hunter2', 'hunter3']) expect(bodies).not.toContain(secret);
    expect(bodies).toContain("ALTER USER a PASSWORD '[redacted]'");
  });

  it('records an alert instead of an event that cannot be serialized', async () => {
    const { store, log, logs } = fixture();
    await log.emit({ type: 'session.ended', session: 's_1', grant: 'g_1', reason: 'client', bytesIn: 1, bytesOut: 2, statements: 3, durationMs: Number.NaN });
    const [body] = store.bodies();
    expect(body).toMatchObject({ type: 'alert', severity: 'critical', session: 's_1', grant: 'g_1' });
    expect(body?.message).toBe('an audit event of type session.ended could not be recorded: non-finite number at $.durationMs');
    expect(logs.lines().some((line) => line.level === 50 && line.type === 'session.ended')).toBe(true);
  });

  it('flush resolves once everything queued is written', async () => {
    const { store, log } = fixture({ batchMaxDelayMs: 60_000, batchMaxEvents: 1_000 });
    await log.flush();
    void log.emit(alert(1));
    void log.emit(alert(2));
    await log.flush();
    expect(store.rows).toHaveLength(2);
  });

  it('passes its durability to the stream', async () => {
    const { stream, log } = fixture({ durability: 'fsync' });
    await log.emit(alert(1));
    expect(stream.durabilities).toEqual(['fsync']);
  });
});

describe('BatchingAuditLog failures', () => {
  it('under block: keeps events, refuses while failing, recovers, loses nothing', async () => {
    const { store, stream, log, logs } = fixture({ onFailure: 'block' });
    store.failNextAppends(3);
    const acceptingAtAttempt: boolean[] = [];
    const later: Promise<void>[] = [];
    store.onAppend = (call) => {
      acceptingAtAttempt.push(log.accepting());
      // Events emitted while the sink fails queue behind the failing batch.
      if (call === 2) later.push(...Array.from({ length: 5 }, (_, n) => log.emit(alert(n + 5))));
    };
    const first = Array.from({ length: 5 }, (_, n) => log.emit(alert(n)));
    await Promise.all(first);
    await Promise.all(later);
    // Attempts 2-4 follow a failure; the 5th carries the events emitted meanwhile, after the recovery.
    expect(acceptingAtAttempt).toEqual([true, false, false, false, true]);
    expect(log.accepting()).toBe(true);
    expect(messages(store)).toEqual(Array.from({ length: 10 }, (_, n) => `event ${n}`));
    expect(stream.seqs()).toEqual(Array.from({ length: 10 }, (_, n) => n + 1));
    expect(log.stats()).toEqual({ queued: 0, written: 10, failures: 3 });
    const warnings = logs.lines().filter((line) => line.level === 40);
    expect(warnings.map((line) => line.retryInMs)).toEqual([5, 10, 20]);
    expect(warnings.every((line) => line.sink === 'store' && line.accepting === false)).toBe(true);
    expect(logs.lines().some((line) => line.msg === 'audit sinks recovered')).toBe(true);
  });

  it('under continue: keeps accepting while the sink fails, and still loses nothing', async () => {
    const { store, log } = fixture({ onFailure: 'continue' });
    store.failNextAppends(3);
    const acceptingAtAttempt: boolean[] = [];
    store.onAppend = () => { acceptingAtAttempt.push(log.accepting()); };
    const emitted = Array.from({ length: 5 }, (_, n) => log.emit(alert(n)));
    await Promise.all(emitted);
    expect(acceptingAtAttempt).toEqual([true, true, true, true]);
    expect(log.stats().failures).toBe(3);
    expect(messages(store)).toHaveLength(5);
  });

  it('retries only the stream when the store already has the batch', async () => {
    const { store, stream, log } = fixture();
    stream.failuresLeft = 2;
    await Promise.all([log.emit(alert(1)), log.emit(alert(2))]);
    expect(store.appendCalls).toBe(1);
    expect(store.rows).toHaveLength(2);
    expect(stream.seqs()).toEqual([1, 2]);
    expect(log.stats().failures).toBe(2);
  });

  it('does not append twice when a failed append had committed', async () => {
    const { store, stream, log } = fixture();
    await log.emit(alert(0));
    store.failNextAppends(1, { afterCommit: true });
    await Promise.all([log.emit(alert(1)), log.emit(alert(2))]);
    expect(messages(store)).toEqual(['event 0', 'event 1', 'event 2']);
    expect(stream.seqs()).toEqual([1, 2, 3]);
    expect((await verifyChain(store.rows)).ok).toBe(true);
  });

  it('never writes bodies, SQL or secrets to the operational log', async () => {
    const { store, log, logs } = fixture();
    store.failNextAppends(2);
    await log.emit({ type: 'statement', session: 's_1', grant: 'g_1', seq: 1, kind: 'query', sql: 'SELECT very_distinctive_column', started: '2024-05-01T12:00:00.000Z', duration_us: 5 });
    const withToken = { ...alert(1), token: 'tok_live_456' };
    await log.emit(withToken);
    expect(logs.lines().length).toBeGreaterThan(0);
    expect(logs.text()).not.toContain('very_distinctive_column');
    expect(logs.text()).not.toContain('tok_live_456');
  });
});

describe('BatchingAuditLog close', () => {
  it('delivers what is queued, then closes the sinks', async () => {
    const { store, stream, log } = fixture({ batchMaxDelayMs: 60_000, batchMaxEvents: 1_000 });
    const emitted = [log.emit(alert(1)), log.emit(alert(2))];
    await log.close();
    await Promise.all(emitted);
    expect(store.rows).toHaveLength(2);
    expect(stream.closed).toBe(true);
    expect(log.accepting()).toBe(false);
  });

  it('rejects emits after close', async () => {
    const { log } = fixture();
    await log.close();
    await expect(log.emit(alert(1))).rejects.toBeInstanceOf(AuditLogClosedError);
  });

  it('gives up after its timeout with a failing sink, reporting what was pending', async () => {
    const { store, stream, log, logs } = fixture({ closeTimeoutMs: 100 });
    store.failNextAppends(Number.POSITIVE_INFINITY);
    void log.emit(alert(1));
    void log.emit(alert(2));
    const started = Date.now();
    const error: unknown = await log.close().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuditCloseTimeoutError);
    expect((error as AuditCloseTimeoutError).pending).toBe(2);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(logs.lines().some((line) => line.level === 50 && line.pending === 2)).toBe(true);
    expect(stream.closed).toBe(true);
    const callsAtClose = store.appendCalls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.appendCalls).toBe(callsAtClose);
  });

  it('returns the same promise when closed twice', async () => {
    const { log } = fixture();
    expect(log.close()).toBe(log.close());
    await log.close();
  });
});
