// The tap's request queue: what the client asked for, in the order the server will answer, paired with each reply —
// the same bookkeeping the server does, so pipelined extended-protocol batches and multi-statement Queries come out
// as one event per statement, each with its own tag or error. The tap (tap.ts) decodes requests and pushes them here.
import { StatementInFlight, type StatementOutcome } from '../../audit/statement-record.js';
import type { StatementRecorder } from '../../audit/statement-recorder.js';
import { statementAtPosition } from './tap-records.js';

export interface PreparedStatement {
  readonly sql: string;
  readonly paramTypes: readonly number[];
  /** What the tap could not read of the Parse; carried to the statements executed from it. */
  readonly undecoded: string | null;
}

export interface BoundPortal {
  readonly statementName: string;
  readonly sql: string;
  readonly params: readonly (string | null)[];
  readonly undecoded: string | null;
}

/**
 * One request awaiting its reply. Parse and Bind produce no event when they succeed (their statement is recorded at
 * Execute), but one when the server refuses them: the client asked for that statement and it did not run, which the
 * trail must show (the server logs such refusals as errors too).
 */
export type Expectation =
  | { readonly type: 'query'; readonly statements: string[]; readonly source: string; current: StatementInFlight | undefined; next: number;
      /** When the next statement of this Query started: at send for the first, at the previous one's end after. */
      nextStartedAt: number; readonly undecoded: string | null }
  | { readonly type: 'execute'; readonly statement: StatementInFlight }
  | { readonly type: 'function_call'; readonly statement: StatementInFlight }
  | { readonly type: 'parse'; readonly name: string; readonly prepared: PreparedStatement; readonly queuedAt: number }
  | { readonly type: 'bind'; readonly portal: string; readonly bound: BoundPortal; readonly queuedAt: number }
  | { readonly type: 'ack' } // Describe, Close: one reply each, no event
  | { readonly type: 'sync' };

/** The single ack for every Describe and Close: it carries nothing, so one object serves all. */
export const ACK: Expectation = { type: 'ack' };
export const SYNC: Expectation = { type: 'sync' };

/** True while the server still has work for `expectation` (a Sync only ends the batch; a Query answered in full is done). */
function stillRunning(expectation: Expectation): boolean {
  if (expectation.type === 'sync') return false;
  if (expectation.type === 'query') return expectation.current !== undefined || expectation.next < expectation.statements.length;
  return true;
}

export class RequestQueue {
  private readonly expectations: Expectation[] = [];
  /** After an error in extended mode the server skips everything up to Sync; so does the pairing. */
  skippingToSync = false;

  constructor(private readonly recorder: StatementRecorder) {}

  /** Nothing asked and unanswered: the client is idle (a warning notice may be sent). */
  get idle(): boolean {
    return this.expectations.length === 0;
  }

  /**
   * The server is working on something a cancel could stop. Not after an error it has already answered (the batch
   * waits only for its ReadyForQuery), nor while only a Sync is outstanding.
   */
  get running(): boolean {
    return this.expectations.some(stillRunning);
  }

  push(expectation: Expectation): void {
    this.expectations.push(expectation);
  }

  /** The statement the server is answering right now (the head of the queue), creating a Query's next one lazily. */
  currentStatement(): StatementInFlight | undefined {
    const head = this.expectations[0];
    if (!head) return undefined;
    if (head.type === 'execute' || head.type === 'function_call') return head.statement;
    if (head.type !== 'query') return undefined;
    if (!head.current) {
      const sql = head.statements[head.next] ?? head.statements.at(-1) ?? '';
      head.current = new StatementInFlight('query', sql, head.nextStartedAt, null, null, null, head.undecoded);
    }
    return head.current;
  }

  complete(done: { tag: string; rows: number | null }): void {
    const head = this.expectations[0];
    if (!head) return;
    if (head.type === 'query') {
      const statement = this.currentStatement();
      if (statement) this.recorder.record(statement, { tag: done.tag, rows: done.rows ?? statement.rows });
      this.nextOfQuery(head);
      return;
    }
    if (head.type === 'execute') this.finish(this.expectations.shift(), { tag: done.tag, rows: done.rows ?? head.statement.rows });
  }

  completeEmpty(): void {
    const head = this.expectations[0];
    if (head?.type === 'query') this.nextOfQuery(head);
    else if (head?.type === 'execute') this.expectations.shift();
  }

  functionCallDone(): void {
    if (this.expectations[0]?.type === 'function_call') this.finish(this.expectations.shift(), { tag: 'FUNCTION CALL' });
  }

  /** ParseComplete, BindComplete, and the single reply of a Describe or Close. */
  acknowledged(type: 'parse' | 'bind' | 'ack'): void {
    if (this.expectations[0]?.type === type) this.expectations.shift();
  }

  fail(error: { code: string; message: string; fields: Readonly<Record<string, string>> }): void {
    const head = this.expectations[0];
    if (!head) return; // an asynchronous FATAL (e.g. the backend terminated); the engine handles the close
    const failure = { error: { code: error.code, message: error.message } };
    if (head.type === 'query') {
      // A syntax error rejects the whole string before any of it runs; its position names the statement at fault,
      // which may lie beyond the one the server would have run next.
      const position = error.fields.P;
      const at = position === undefined ? undefined : statementAtPosition(head.source, head.statements, Number(position));
      if (at !== undefined && at > head.next && head.current === undefined) head.next = at;
      const statement = this.currentStatement();
      if (statement) this.recorder.record(statement, failure);
      head.current = undefined;
      head.next = head.statements.length; // the server runs nothing after the failed statement
      return;
    }
    // Extended protocol: this request failed and the server discards everything up to the next Sync.
    const refused = this.refusedStatement(head);
    if (refused) this.recorder.record(refused, failure);
    while (this.expectations.length > 0 && this.expectations[0]?.type !== 'sync') this.expectations.shift();
    this.skippingToSync = this.expectations.length === 0;
  }

  /** ReadyForQuery: the head (a Sync or a Query) is done; a Query statement still open ends without a tag. */
  ready(): void {
    const head = this.expectations.shift();
    if (head?.type === 'query' && head.current) this.recorder.record(head.current, { tag: '', rows: head.current.rows });
  }

  /** Everything still in flight is ended with `reason` (the session is going away); nothing is left unrecorded. */
  abandon(reason: { code: string; message: string }): void {
    for (const expectation of this.expectations.splice(0)) {
      if (expectation.type === 'execute' || expectation.type === 'function_call') this.recorder.record(expectation.statement, { error: reason });
      if (expectation.type === 'query' && expectation.current) this.recorder.record(expectation.current, { error: reason });
    }
  }

  private nextOfQuery(head: Extract<Expectation, { type: 'query' }>): void {
    head.current = undefined;
    head.next++;
    head.nextStartedAt = performance.now();
  }

  /** The statement a failed extended-protocol request stands for: its Execute, or the Parse / Bind that was refused. */
  private refusedStatement(head: Expectation): StatementInFlight | undefined {
    switch (head.type) {
      case 'execute':
      case 'function_call':
        return head.statement;
      case 'parse':
        return new StatementInFlight('prepare', head.prepared.sql, head.queuedAt, null, head.name, null, head.prepared.undecoded);
      case 'bind':
        return new StatementInFlight('bind_execute', head.bound.sql, head.queuedAt, head.bound.params, head.bound.statementName, head.portal,
          head.bound.undecoded);
      case 'query':
      case 'ack':
      case 'sync':
        return undefined;
    }
  }

  private finish(expectation: Expectation | undefined, outcome: StatementOutcome): void {
    if (expectation?.type === 'execute' || expectation?.type === 'function_call') this.recorder.record(expectation.statement, outcome);
  }
}
