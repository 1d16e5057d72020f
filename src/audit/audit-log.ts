// The audit log producers talk to: events are completed (id, ts), redacted, made canonical and queued; one loop
// delivers them in batches, store first (it assigns the chain position), then the stream. A failing sink never
// loses an event: the batch stays at the head of the queue and is retried with backoff while `accepting()` tells
// callers (under `on_failure: block`) to refuse new statements.
import type { Logger } from 'pino';
import type { AuditEventInput, AuditLog, RecordedStatement } from './events.js';
import { pushEventColumns, type AuditBatchColumns, type ChainAssignment } from './records.js';
import { describeProblem, prepareEvent } from './prepare-event.js';
import type { AuditDurability, AuditRecordSink, AuditStreamSink } from './sinks/sink.js';

export type AuditFailurePolicy = 'block' | 'continue';

export interface BatchingAuditLogOptions {
  readonly store: AuditRecordSink;
  readonly stream: AuditStreamSink;
  readonly durability: AuditDurability;
  readonly onFailure: AuditFailurePolicy;
  readonly batchMaxEvents: number;
  readonly batchMaxDelayMs: number;
  /** Operational messages (failures, recovery, shutdown): counts and error codes, never bodies or SQL. */
  readonly logger?: Logger;
  /** How long close() keeps delivering (and retrying) before it gives up. Default 10 s. */
  readonly closeTimeoutMs?: number;
  /** Retry delay after the first failure, doubled per failure up to `retryMaxDelayMs`. Defaults 50 ms and 5 s. */
  readonly retryInitialDelayMs?: number;
  readonly retryMaxDelayMs?: number;
}

export interface AuditLogStats {
  /** Accepted but not yet in both sinks (including the batch in flight). */
  readonly queued: number;
  /** In both sinks. */
  readonly written: number;
  /** Failed delivery attempts since start. */
  readonly failures: number;
}

export class AuditLogClosedError extends Error {
  override readonly name = 'AuditLogClosedError';
  constructor() {
    super('audit log is closed');
  }
}

export class AuditCloseTimeoutError extends Error {
  override readonly name = 'AuditCloseTimeoutError';
  constructor(readonly pending: number, timeoutMs: number) {
    super(`audit log closed after ${timeoutMs} ms with ${pending} events not written`);
  }
}

/**
 * Events are queued straight into batches of up to `batchMaxEvents`, each with one promise its events' emit calls
 * share: per statement, the queue holds its columns and nothing else (no promise, no object), which keeps what
 * survives into the next garbage collection small; the same columns go to the store and the stream.
 */
interface Batch {
  readonly columns: AuditBatchColumns;
  count: number;
  readonly delivered: Promise<void>;
  readonly resolve: () => void;
  /** Set once the store holds the batch: a retry then repeats only the stream step. */
  stored?: ChainAssignment;
}

function openBatch(): Batch {
  let resolve: () => void = () => {};
  const delivered = new Promise<void>((settle) => { resolve = settle; });
  return { columns: [], count: 0, delivered, resolve };
}

export class BatchingAuditLog implements AuditLog {
  readonly #store: AuditRecordSink;
  readonly #stream: AuditStreamSink;
  readonly #durability: AuditDurability;
  readonly #onFailure: AuditFailurePolicy;
  readonly #batchMaxEvents: number;
  readonly #batchMaxDelayMs: number;
  readonly #logger: Logger | undefined;
  readonly #closeTimeoutMs: number;
  readonly #retryInitialDelayMs: number;
  readonly #retryMaxDelayMs: number;

  /** Batches not yet taken by the loop; only the last one still fills. */
  #queue: Batch[] = [];
  #queuedEvents = 0;
  #inFlight: Batch | undefined;
  #pumping = false;
  #delayTimer: NodeJS.Timeout | undefined;
  /** The loop sleeps before a retry, or between batches to let the next one fill; one timer for both. */
  #sleepTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** Set by flush/close: the loop stops pacing until the queue is empty. */
  #hurry = false;
  #consecutiveFailures = 0;
  #nextRetryDelayMs = 0;
  #written = 0;
  #failures = 0;
  #closed = false;
  #abandoned = false;
  #closing: Promise<void> | undefined;

  constructor(options: BatchingAuditLogOptions) {
    this.#store = options.store;
    this.#stream = options.stream;
    this.#durability = options.durability;
    this.#onFailure = options.onFailure;
    this.#batchMaxEvents = Math.max(1, options.batchMaxEvents);
    // Under fsync every statement's result waits for its batch (durable-replies.ts): no pacing then, a batch goes as
    // soon as the one before it is written — classic group commit, batches forming while a commit is in flight.
    this.#batchMaxDelayMs = options.durability === 'fsync' ? 0 : Math.max(0, options.batchMaxDelayMs);
    this.#logger = options.logger;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#retryInitialDelayMs = options.retryInitialDelayMs ?? 50;
    this.#retryMaxDelayMs = options.retryMaxDelayMs ?? 5_000;
  }

  /** Resolves once both sinks have the event; never rejects, except with AuditLogClosedError after close(). */
  emit(input: AuditEventInput): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditLogClosedError());
    const { pending, problem } = prepareEvent(input);
    if (problem !== undefined) {
      this.#logger?.error({ type: input.type, problem }, 'audit event could not be serialized; recorded an alert instead');
    }
    const batch = this.openBatch();
    pushEventColumns(batch.columns, pending.id, pending.ts.getTime(), pending.type, pending.grantId, pending.sessionId, pending.actor, pending.body);
    return this.queued(batch);
  }

  /** The statement path: the recorder's canonical body goes into the batch as it is. */
  appendStatement(statement: RecordedStatement): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditLogClosedError());
    const batch = this.openBatch();
    pushEventColumns(batch.columns, statement.id, statement.tsMs, 'statement', statement.grant, statement.session, null, statement.body);
    return this.queued(batch);
  }

  /** The batch that takes the next event: the last one, or a new one when it is full. */
  private openBatch(): Batch {
    let batch = this.#queue[this.#queue.length - 1];
    if (batch === undefined || batch.count >= this.#batchMaxEvents) {
      batch = openBatch();
      this.#queue.push(batch);
    }
    return batch;
  }

  /** An event was added to `batch`: counted, and its delivery scheduled. */
  private queued(batch: Batch): Promise<void> {
    batch.count++;
    this.#queuedEvents++;
    if (this.#queuedEvents >= this.#batchMaxEvents && this.#inFlight === undefined) this.wakeUp(); // a full batch goes at once
    this.schedule();
    return batch.delivered;
  }

  accepting(): boolean {
    if (this.#closed) return false;
    return this.#onFailure === 'continue' || this.#consecutiveFailures === 0;
  }

  async flush(): Promise<void> {
    const last = this.#queue[this.#queue.length - 1] ?? this.#inFlight;
    if (last === undefined) return;
    this.#hurry = true;
    if (this.#inFlight === undefined) this.wakeUp(); // cuts pacing short, never a retry's backoff
    this.startPump();
    await last.delivered;
  }

  /** Delivers what is queued, then closes the sinks; gives up after `closeTimeoutMs` with AuditCloseTimeoutError. */
  close(): Promise<void> {
    this.#closing ??= this.shutDown();
    return this.#closing;
  }

  stats(): AuditLogStats {
    return { queued: this.queuedCount(), written: this.#written, failures: this.#failures };
  }

  /** One timer for the whole batch, not one per event; a full batch goes at once. */
  private schedule(): void {
    // A running loop takes new events as soon as the batch in flight is done: that is the group commit.
    if (this.#pumping) return;
    if (this.#queuedEvents >= this.#batchMaxEvents) {
      this.startPump();
    } else {
      this.#delayTimer ??= setTimeout(() => {
        this.#delayTimer = undefined;
        this.startPump();
      }, this.#batchMaxDelayMs);
    }
  }

  private startPump(): void {
    if (this.#delayTimer !== undefined) {
      clearTimeout(this.#delayTimer);
      this.#delayTimer = undefined;
    }
    if (this.#pumping || this.#abandoned) return;
    this.#pumping = true;
    void this.pump();
  }

  /** The one delivery loop. It clears `#pumping` in the same turn it sees the queue empty, so no emit is stranded. */
  private async pump(): Promise<void> {
    try {
      while (!this.#abandoned) {
        const batch = this.#inFlight ?? this.takeBatch();
        if (batch === undefined) return;
        const startedAt = Date.now();
        if (await this.deliver(batch)) {
          this.finish(batch);
          await this.paceNextBatch(startedAt);
        } else {
          await this.sleep(this.#nextRetryDelayMs);
        }
      }
    } catch (error) {
      // deliver() catches sink errors itself; this only keeps a bug here from becoming an unhandled rejection.
      this.#logger?.error({ problem: describeProblem(error) }, 'audit delivery loop failed');
    } finally {
      this.#pumping = false;
    }
  }

  private takeBatch(): Batch | undefined {
    const batch = this.#queue.shift();
    if (batch === undefined) {
      this.#hurry = false;
      return undefined;
    }
    this.#queuedEvents -= batch.count;
    this.#inFlight = batch;
    return batch;
  }

  /** True when both sinks have the batch; false after a failure (logged), so the caller retries. Never throws. */
  private async deliver(batch: Batch): Promise<boolean> {
    let sink: 'store' | 'stream' = 'store';
    try {
      if (batch.stored === undefined) {
        const stored = await this.#store.append(batch.columns);
        if (stored.hashes.length !== batch.count) throw new Error(`store sink placed ${stored.hashes.length} of ${batch.count} events`);
        batch.stored = stored;
      }
      sink = 'stream';
      await this.#stream.write(batch.columns, batch.stored, this.#durability);
      return true;
    } catch (error) {
      this.noteFailure(sink, error);
      return false;
    }
  }

  private finish(batch: Batch): void {
    this.#inFlight = undefined;
    this.#written += batch.count;
    if (this.#consecutiveFailures > 0) {
      this.#logger?.info({ failedAttempts: this.#consecutiveFailures, queued: this.queuedCount() }, 'audit sinks recovered');
      this.#consecutiveFailures = 0;
    }
    batch.resolve();
  }

  private noteFailure(sink: 'store' | 'stream', error: unknown): void {
    this.#failures++;
    this.#consecutiveFailures++;
    this.#nextRetryDelayMs = this.#consecutiveFailures === 1
      ? this.#retryInitialDelayMs
      : Math.min(this.#nextRetryDelayMs * 2, this.#retryMaxDelayMs);
    this.#logger?.warn({
      sink, attempt: this.#consecutiveFailures, queued: this.queuedCount(), retryInMs: this.#nextRetryDelayMs,
      accepting: this.accepting(), problem: describeProblem(error),
    }, 'audit sink failed; events stay queued and will be retried');
  }

  /**
   * Group commit under load: a batch starts at most every `batchMaxDelayMs` unless the queue fills a batch, so a busy
   * gateway commits a few hundred times a second however many statements it relays. Nobody waits on this under
   * `durability: os`; flush() and close() cut it short.
   */
  private paceNextBatch(startedAt: number): Promise<void> {
    if (this.#hurry || this.#queuedEvents === 0 || this.#queuedEvents >= this.#batchMaxEvents) return Promise.resolve();
    return this.sleep(startedAt + this.#batchMaxDelayMs - Date.now());
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = setTimeout(() => this.wakeUp(), ms);
    });
  }

  /** Ends a pacing or retry sleep now. */
  private wakeUp(): void {
    if (this.#sleepTimer !== undefined) clearTimeout(this.#sleepTimer);
    this.#sleepTimer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  private async shutDown(): Promise<void> {
    this.#closed = true;
    const deadline = Date.now() + this.#closeTimeoutMs;
    if (!(await settlesWithin(this.flush(), this.#closeTimeoutMs))) {
      const pending = this.queuedCount();
      this.abandon();
      this.#logger?.error({ pending, timeoutMs: this.#closeTimeoutMs }, 'audit log closed with events not written');
      // The sinks still get a short chance to release files; they are likely the reason we are here.
      await settlesWithin(this.closeSinks(), Math.min(1_000, this.#closeTimeoutMs));
      throw new AuditCloseTimeoutError(pending, this.#closeTimeoutMs);
    }
    if (!(await settlesWithin(this.closeSinks(), Math.max(0, deadline - Date.now())))) {
      this.#logger?.error({ timeoutMs: this.#closeTimeoutMs }, 'audit sinks did not close in time');
      throw new Error(`audit sinks did not close within ${this.#closeTimeoutMs} ms`);
    }
  }

  private async closeSinks(): Promise<void> {
    const results = await Promise.allSettled([this.#store.close(), this.#stream.close()]);
    for (const result of results) {
      if (result.status === 'rejected') {
        this.#logger?.error({ problem: describeProblem(result.reason) }, 'audit sink failed to close');
      }
    }
  }

  /** Stops retrying for good: only close() does this, after its time is up. */
  private abandon(): void {
    this.#abandoned = true;
    if (this.#delayTimer !== undefined) clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
    this.wakeUp();
  }

  private queuedCount(): number {
    return this.#queuedEvents + (this.#inFlight?.count ?? 0);
  }
}

/** True when `work` settled within `ms`; the timer is cleared either way so it never holds the process open. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([work.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
