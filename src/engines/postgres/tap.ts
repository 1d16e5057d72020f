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
import type { StatementFields, StatementKind } from '../../audit/events.js';
import { splitStatements } from '../../audit/statement-text.js';
import type { StatementRecorder } from '../../audit/statement-recorder.js';

/** Frontend types whose bodies the tap reads; CopyData is only counted. */
export const FRONTEND_TAPPED = [FrontendCode.Query, FrontendCode.Parse, FrontendCode.Bind, FrontendCode.Execute,
  FrontendCode.Close, FrontendCode.Sync, FrontendCode.FunctionCall, FrontendCode.Describe, FrontendCode.CopyFail];
export const BACKEND_TAPPED = [BackendCode.CommandComplete, BackendCode.ErrorResponse, BackendCode.ReadyForQuery];

interface StatementInFlight {
  kind: StatementKind;
  sql: string;
  params?: readonly (string | null)[];
  statementName?: string;
  portal?: string;
  startedAt: number;
  startedIso: string;
  rows: number;
  bytes: number;
}

/** One request awaiting its reply, in the order the server will answer. */
type Expectation =
  | { readonly type: 'query'; readonly statements: string[]; current: StatementInFlight | undefined; next: number }
  | { readonly type: 'execute'; readonly statement: StatementInFlight }
  | { readonly type: 'function_call'; readonly statement: StatementInFlight }
  | { readonly type: 'ack' } // Parse, Bind, Describe, Close: one reply each, no event
  | { readonly type: 'sync' };

interface PreparedStatement {
  readonly sql: string;
  readonly paramTypes: readonly number[];
}

interface BoundPortal {
  readonly statementName: string;
  readonly sql: string;
  readonly params: readonly (string | null)[];
}

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
        const { sql } = decodeQuery(body as Uint8Array);
        this.expectations.push({ type: 'query', statements: splitStatements(sql, 'postgres'), current: undefined, next: 0 });
        return;
      }
      case FrontendCode.Parse: {
        const parse = decodeParse(body as Uint8Array);
        this.statements.set(parse.statement, { sql: parse.sql, paramTypes: parse.paramTypes });
        this.expectations.push({ type: 'ack' });
        return;
      }
      case FrontendCode.Bind: {
        const bind = decodeBind(body as Uint8Array);
        const prepared = this.statements.get(bind.statement);
        this.portals.set(bind.portal, {
          statementName: bind.statement,
          sql: prepared?.sql ?? '',
          params: this.recorder.wantsParameters ? decodeBindParameters(bind, prepared?.paramTypes ?? []) : [],
        });
        this.expectations.push({ type: 'ack' });
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
        this.expectations.push({ type: 'ack' });
        return;
      case FrontendCode.Close: {
        const close = decodeClose(body as Uint8Array);
        if (close.target === 'statement') this.statements.delete(close.name);
        else this.portals.delete(close.name);
        this.expectations.push({ type: 'ack' });
        return;
      }
      case FrontendCode.Sync:
        this.skippingToSync = false;
        this.expectations.push({ type: 'sync' });
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
      case BackendCode.BindComplete:
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
      if (expectation.type === 'execute' || expectation.type === 'function_call') this.recorder.record(this.fields(expectation.statement, { error: reason }));
      if (expectation.type === 'query' && expectation.current) this.recorder.record(this.fields(expectation.current, { error: reason }));
    }
  }

  private begin(kind: StatementKind, sql: string, extra: Partial<StatementInFlight>): StatementInFlight {
    const startedAt = performance.now();
    return { kind, sql, startedAt, startedIso: new Date().toISOString(), rows: 0, bytes: 0, ...extra };
  }

  /** The statement the server is answering right now (the head of the queue), creating a Query's next one lazily. */
  private currentStatement(): StatementInFlight | undefined {
    const head = this.expectations[0];
    if (!head) return undefined;
    if (head.type === 'execute' || head.type === 'function_call') return head.statement;
    if (head.type !== 'query') return undefined;
    if (!head.current) {
      const sql = head.statements[head.next] ?? head.statements.at(-1) ?? '';
      head.current = this.begin('query', sql, {});
    }
    return head.current;
  }

  private complete(done: { tag: string; rows: number | null }): void {
    const head = this.expectations[0];
    if (!head) return;
    if (head.type === 'query') {
      const statement = this.currentStatement();
      if (statement) this.recorder.record(this.fields(statement, { tag: done.tag, rows: done.rows ?? statement.rows }));
      head.current = undefined;
      head.next++;
      return;
    }
    if (head.type === 'execute') this.finish(this.expectations.shift(), { tag: done.tag, rows: done.rows ?? head.statement.rows });
  }

  private completeEmpty(): void {
    const head = this.expectations[0];
    if (head?.type === 'query') {
      head.current = undefined;
      head.next++;
    } else if (head?.type === 'execute') {
      this.expectations.shift();
    }
  }

  private fail(error: { code: string; message: string }): void {
    const head = this.expectations[0];
    if (!head) return; // an asynchronous FATAL (e.g. the backend terminated); the engine handles the close
    const failure = { error: { code: error.code, message: error.message } };
    if (head.type === 'query') {
      const statement = this.currentStatement();
      if (statement) this.recorder.record(this.fields(statement, failure));
      head.current = undefined;
      head.next = head.statements.length; // the server runs nothing after the failed statement
      return;
    }
    // Extended protocol: this request failed and the server discards everything up to the next Sync.
    while (this.expectations.length > 0 && this.expectations[0]?.type !== 'sync') {
      const skipped = this.expectations.shift();
      if (skipped === head && (skipped.type === 'execute' || skipped.type === 'function_call')) this.recorder.record(this.fields(skipped.statement, failure));
    }
    this.skippingToSync = this.expectations.length === 0;
  }

  private ready(status: TransactionStatus): void {
    this.transactionStatus = status;
    const head = this.expectations.shift();
    if (head?.type === 'query' && head.current) this.recorder.record(this.fields(head.current, { tag: '', rows: head.current.rows }));
  }

  private finish(expectation: Expectation | undefined, outcome: { tag: string; rows?: number }): void {
    if (expectation?.type === 'execute' || expectation?.type === 'function_call') this.recorder.record(this.fields(expectation.statement, outcome));
  }

  private fields(statement: StatementInFlight, outcome: { tag?: string; rows?: number; error?: { code: string; message: string } }): Omit<StatementFields, 'seq'> {
    return {
      kind: statement.kind,
      sql: statement.sql,
      ...(statement.params !== undefined && statement.params.length > 0 ? { params: statement.params } : {}),
      ...(statement.statementName !== undefined ? { statement_name: statement.statementName } : {}),
      ...(statement.portal !== undefined ? { portal: statement.portal } : {}),
      started: statement.startedIso,
      duration_us: Math.round((performance.now() - statement.startedAt) * 1000),
      ...(outcome.error ? { error: outcome.error } : { tag: outcome.tag ?? '', rows: outcome.rows ?? statement.rows }),
      bytes: statement.bytes,
    };
  }
}
