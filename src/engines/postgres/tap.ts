// The Postgres tap: watches both directions of the relay and turns them into statement events (DESIGN §6). It
// keeps a queue of what the client asked for, in order, and pairs each server reply with its request — the same
// bookkeeping the server does, so pipelined extended-protocol batches and multi-statement Queries come out as one
// event per statement, each with its own tag or error.
import { BackendCode, FrontendCode } from '../../../protocols/postgres/codes.js';
import { decodeCommandComplete, decodeReadyForQuery, type TransactionStatus } from '../../../protocols/postgres/backend-status.js';
import { decodeErrorResponse } from '../../../protocols/postgres/backend-error.js';
import { decodeBind, decodeClose, decodeExecute, decodeParse } from '../../../protocols/postgres/frontend-extended.js';
import { decodeFunctionCall, decodeQuery } from '../../../protocols/postgres/frontend-simple.js';
import { decodeBindParameters } from '../../../protocols/postgres/param-decode.js';
import type { StatementKind } from '../../audit/events.js';
import { isoAtMillis } from '../../audit/iso-time.js';
import type { StatementRecorder } from '../../audit/statement-recorder.js';
import { queryStatements, statementAtPosition, statementFields, type StatementInFlight } from './tap-records.js';

/** Frontend types whose bodies the tap reads; CopyData is only counted. */
export const FRONTEND_TAPPED = [FrontendCode.Query, FrontendCode.Parse, FrontendCode.Bind, FrontendCode.Execute,
  FrontendCode.Close, FrontendCode.Sync, FrontendCode.FunctionCall, FrontendCode.Describe, FrontendCode.CopyFail];
export const BACKEND_TAPPED = [BackendCode.CommandComplete, BackendCode.ErrorResponse, BackendCode.ReadyForQuery];

interface PreparedStatement {
  readonly sql: string;
  readonly paramTypes: readonly number[];
}

interface BoundPortal {
  readonly statementName: string;
  readonly sql: string;
  readonly params: readonly (string | null)[];
}

/**
 * One request awaiting its reply, in the order the server will answer. Parse and Bind produce no event when they
 * succeed (their statement is recorded at Execute), but one when the server refuses them: the client asked for that
 * statement and it did not run, which the trail must show (the server logs such refusals as errors too).
 */
type Expectation =
  | { readonly type: 'query'; readonly statements: string[]; readonly source: string; current: StatementInFlight | undefined; next: number;
      /** When the next statement of this Query started: at send for the first, at the previous one's end after. */
      nextStartedAt: number; nextStartedIso: string }
  | { readonly type: 'execute'; readonly statement: StatementInFlight }
  | { readonly type: 'function_call'; readonly statement: StatementInFlight }
  | { readonly type: 'parse'; readonly name: string; readonly prepared: PreparedStatement; readonly queuedAt: number }
  | { readonly type: 'bind'; readonly portal: string; readonly bound: BoundPortal; readonly queuedAt: number }
  | { readonly type: 'ack' } // Describe, Close: one reply each, no event
  | { readonly type: 'sync' };

/** The single ack for every Describe and Close: it carries nothing, so one object serves all. */
const ACK: Expectation = { type: 'ack' };
const SYNC: Expectation = { type: 'sync' };

export class PostgresTap {
  private readonly expectations: Expectation[] = [];
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, BoundPortal>();
  /** After an error in extended mode the server skips everything up to Sync; so does the pairing. */
  private skippingToSync = false;
  private transactionStatus: TransactionStatus = 'I';

  constructor(private readonly recorder: StatementRecorder) {}

  /** Nothing asked and unanswered: the client is idle (a warning notice may be sent). */
  get idle(): boolean {
    return this.expectations.length === 0;
  }

  get status(): TransactionStatus {
    return this.transactionStatus;
  }

  onFrontend(type: number, body: Uint8Array | undefined, totalLength: number): void {
    // After an extended-protocol error the server ignores everything up to Sync, so it answers none of it.
    if (this.skippingToSync && type !== FrontendCode.Sync) return;
    switch (type) {
      case FrontendCode.Query: {
        const { statements, source } = queryStatements(decodeQuery(body as Uint8Array).sql);
        this.expectations.push({ type: 'query', statements, source, current: undefined, next: 0,
          nextStartedAt: performance.now(), nextStartedIso: isoAtMillis(Date.now()) });
        return;
      }
      case FrontendCode.Parse: {
        const parse = decodeParse(body as Uint8Array);
        const prepared = { sql: parse.sql, paramTypes: parse.paramTypes };
        this.statements.set(parse.statement, prepared);
        this.expectations.push({ type: 'parse', name: parse.statement, prepared, queuedAt: performance.now() });
        return;
      }
      case FrontendCode.Bind: {
        const bind = decodeBind(body as Uint8Array);
        const prepared = this.statements.get(bind.statement);
        const bound = {
          statementName: bind.statement,
          sql: prepared?.sql ?? '',
          params: this.recorder.wantsParameters ? decodeBindParameters(bind, prepared?.paramTypes ?? []) : [],
        };
        this.portals.set(bind.portal, bound);
        this.expectations.push({ type: 'bind', portal: bind.portal, bound, queuedAt: performance.now() });
        return;
      }
      case FrontendCode.Execute: {
        const execute = decodeExecute(body as Uint8Array);
        const portal = this.portals.get(execute.portal);
        this.expectations.push({ type: 'execute', statement: this.begin('bind_execute', portal?.sql ?? '', {
          params: portal?.params ?? [], statementName: portal?.statementName ?? '', portal: execute.portal,
        }) });
        return;
      }
      case FrontendCode.Describe:
        this.expectations.push(ACK);
        return;
      case FrontendCode.Close: {
        const close = decodeClose(body as Uint8Array);
        if (close.target === 'statement') this.statements.delete(close.name);
        else this.portals.delete(close.name);
        this.expectations.push(ACK);
        return;
      }
      case FrontendCode.Sync:
        this.skippingToSync = false;
        this.expectations.push(SYNC);
        return;
      case FrontendCode.FunctionCall: {
        const call = decodeFunctionCall(body as Uint8Array);
        this.expectations.push({ type: 'function_call', statement: this.begin('function_call', `function ${call.functionOid}`, {}) });
        return;
      }
      case FrontendCode.CopyData: {
        const copying = this.currentStatement();
        if (copying) copying.bytes += totalLength - 5;
        return;
      }
      default:
        return;
    }
  }

  onBackend(type: number, body: Uint8Array | undefined, totalLength: number): void {
    switch (type) {
      case BackendCode.DataRow: {
        const statement = this.currentStatement();
        if (statement) {
          statement.rows++;
          statement.bytes += totalLength;
        }
        return;
      }
      case BackendCode.CopyData: {
        const statement = this.currentStatement();
        if (statement) statement.bytes += totalLength - 5;
        return;
      }
      case BackendCode.CopyInResponse:
      case BackendCode.CopyOutResponse: {
        const statement = this.currentStatement();
        if (statement) statement.kind = type === BackendCode.CopyInResponse ? 'copy_in' : 'copy_out';
        return;
      }
      case BackendCode.CommandComplete:
        this.complete(decodeCommandComplete(body as Uint8Array));
        return;
      case BackendCode.EmptyQueryResponse:
        this.completeEmpty();
        return;
      case BackendCode.PortalSuspended:
        this.complete({ tag: 'SUSPENDED', rows: null });
        return;
      case BackendCode.FunctionCallResponse: {
        const head = this.expectations[0];
        if (head?.type === 'function_call') this.finish(this.expectations.shift(), { tag: 'FUNCTION CALL' });
        return;
      }
      case BackendCode.ErrorResponse:
        this.fail(decodeErrorResponse(body as Uint8Array));
        return;
      case BackendCode.ReadyForQuery:
        this.ready(decodeReadyForQuery(body as Uint8Array).status);
        return;
      case BackendCode.ParseComplete:
        if (this.expectations[0]?.type === 'parse') this.expectations.shift();
        return;
      case BackendCode.BindComplete:
        if (this.expectations[0]?.type === 'bind') this.expectations.shift();
        return;
      case BackendCode.CloseComplete:
      case BackendCode.NoData:
      case BackendCode.RowDescription:
        if (this.expectations[0]?.type === 'ack') this.expectations.shift();
        return;
      default:
        return;
    }
  }

  /** Everything still in flight is ended with `reason` (the session is going away); nothing is left unrecorded. */
  abandon(reason: { code: string; message: string }): void {
    for (const expectation of this.expectations.splice(0)) {
      if (expectation.type === 'execute' || expectation.type === 'function_call') this.recorder.record(statementFields(expectation.statement, { error: reason }));
      if (expectation.type === 'query' && expectation.current) this.recorder.record(statementFields(expectation.current, { error: reason }));
    }
  }

  private begin(kind: StatementKind, sql: string, extra: Partial<StatementInFlight>): StatementInFlight {
    const now = performance.now();
    const startedAt = extra.startedAt ?? now;
    return { kind, sql, startedIso: isoAtMillis(Date.now() - (now - startedAt)), rows: 0, bytes: 0, ...extra, startedAt };
  }

  /** The statement the server is answering right now (the head of the queue), creating a Query's next one lazily. */
  private currentStatement(): StatementInFlight | undefined {
    const head = this.expectations[0];
    if (!head) return undefined;
    if (head.type === 'execute' || head.type === 'function_call') return head.statement;
    if (head.type !== 'query') return undefined;
    if (!head.current) {
      const sql = head.statements[head.next] ?? head.statements.at(-1) ?? '';
      head.current = { ...this.begin('query', sql, {}), startedAt: head.nextStartedAt, startedIso: head.nextStartedIso };
    }
    return head.current;
  }

  private complete(done: { tag: string; rows: number | null }): void {
    const head = this.expectations[0];
    if (!head) return;
    if (head.type === 'query') {
      const statement = this.currentStatement();
      if (statement) this.recorder.record(statementFields(statement, { tag: done.tag, rows: done.rows ?? statement.rows }));
      head.current = undefined;
      head.next++;
      head.nextStartedAt = performance.now();
      head.nextStartedIso = isoAtMillis(Date.now());
      return;
    }
    if (head.type === 'execute') this.finish(this.expectations.shift(), { tag: done.tag, rows: done.rows ?? head.statement.rows });
  }

  private completeEmpty(): void {
    const head = this.expectations[0];
    if (head?.type === 'query') {
      head.current = undefined;
      head.next++;
      head.nextStartedAt = performance.now();
      head.nextStartedIso = isoAtMillis(Date.now());
    } else if (head?.type === 'execute') {
      this.expectations.shift();
    }
  }

  private fail(error: { code: string; message: string; fields: Readonly<Record<string, string>> }): void {
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
      if (statement) this.recorder.record(statementFields(statement, failure));
      head.current = undefined;
      head.next = head.statements.length; // the server runs nothing after the failed statement
      return;
    }
    // Extended protocol: this request failed and the server discards everything up to the next Sync.
    const refused = this.refusedStatement(head);
    if (refused) this.recorder.record(statementFields(refused, failure));
    while (this.expectations.length > 0 && this.expectations[0]?.type !== 'sync') this.expectations.shift();
    this.skippingToSync = this.expectations.length === 0;
  }

  /** The statement a failed extended-protocol request stands for: its Execute, or the Parse / Bind that was refused. */
  private refusedStatement(head: Expectation): StatementInFlight | undefined {
    switch (head.type) {
      case 'execute':
      case 'function_call':
        return head.statement;
      case 'parse':
        return this.begin('prepare', head.prepared.sql, { statementName: head.name, startedAt: head.queuedAt });
      case 'bind':
        return this.begin('bind_execute', head.bound.sql, {
          params: head.bound.params, statementName: head.bound.statementName, portal: head.portal, startedAt: head.queuedAt,
        });
      case 'query':
      case 'ack':
      case 'sync':
        return undefined;
    }
  }

  private ready(status: TransactionStatus): void {
    this.transactionStatus = status;
    const head = this.expectations.shift();
    if (head?.type === 'query' && head.current) this.recorder.record(statementFields(head.current, { tag: '', rows: head.current.rows }));
  }

  private finish(expectation: Expectation | undefined, outcome: { tag: string; rows?: number }): void {
    if (expectation?.type === 'execute' || expectation?.type === 'function_call') this.recorder.record(statementFields(expectation.statement, outcome));
  }

}
