// The Postgres tap: watches both directions of the relay and turns them into statement events (DESIGN §6). It decodes
// what the client asks for and queues it (tap-queue.ts), which pairs each server reply with its request.
// The tap only observes: the relay has already sent the client's bytes on, and the server is the judge of them. A
// body the tap cannot decode (a driver's overflowed Bind count, a field the server reads differently) therefore never
// ends the session; the statement is recorded with what could be read and an `undecoded` note, and the server's own
// answer (usually an ERROR the session survives) is its outcome. Framing errors are the relay's, and stay fatal.
import { BackendCode, FrontendCode } from '../../../protocols/postgres/codes.js';
import { decodeCommandComplete, decodeReadyForQuery, type TransactionStatus } from '../../../protocols/postgres/backend-status.js';
import { decodeErrorResponse } from '../../../protocols/postgres/backend-error.js';
import { salvageLeadingStrings } from '../../../protocols/postgres/frontend.js';
import { decodeBind, decodeClose, decodeExecute, decodeParse } from '../../../protocols/postgres/frontend-extended.js';
import { decodeFunctionCall, decodeQuery } from '../../../protocols/postgres/frontend-simple.js';
import { decodeBindParameters } from '../../../protocols/postgres/param-decode.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import { StatementInFlight } from '../../audit/statement-record.js';
import type { StatementRecorder } from '../../audit/statement-recorder.js';
import { ACK, type BoundPortal, type PreparedStatement, RequestQueue, SYNC } from './tap-queue.js';
import { queryStatements } from './tap-records.js';

/** Frontend types whose bodies the tap reads; CopyData is only counted. */
export const FRONTEND_TAPPED = [FrontendCode.Query, FrontendCode.Parse, FrontendCode.Bind, FrontendCode.Execute,
  FrontendCode.Close, FrontendCode.Sync, FrontendCode.FunctionCall, FrontendCode.Describe, FrontendCode.CopyFail];
export const BACKEND_TAPPED = [BackendCode.CommandComplete, BackendCode.ErrorResponse, BackendCode.ReadyForQuery];

/** `decode(input)`, or the WireFormatError it refused the input with (anything else is a bug and propagates). */
function attempt<I, T>(decode: (input: I) => T, input: I): T | WireFormatError {
  try {
    return decode(input);
  } catch (error) {
    if (error instanceof WireFormatError) return error;
    throw error;
  }
}

/** Stands in for the body of an untapped type (CopyData is counted, not read). */
const NO_BODY = new Uint8Array(0);

export class PostgresTap {
  private readonly queue: RequestQueue;
  private readonly statements = new Map<string, PreparedStatement>();
  private readonly portals = new Map<string, BoundPortal>();
  private transactionStatus: TransactionStatus = 'I';

  constructor(private readonly recorder: StatementRecorder) {
    this.queue = new RequestQueue(recorder);
  }

  /** Nothing asked and unanswered: the client is idle (a warning notice may be sent). */
  get idle(): boolean {
    return this.queue.idle;
  }

  /** The server is working on a request a CancelRequest could stop (not merely owing a ReadyForQuery). */
  get running(): boolean {
    return this.queue.running;
  }

  get status(): TransactionStatus {
    return this.transactionStatus;
  }

  onFrontend(type: number, body: Uint8Array | undefined, totalLength: number): void {
    // After an extended-protocol error the server ignores everything up to Sync, so it answers none of it.
    if (this.queue.skippingToSync && type !== FrontendCode.Sync) return;
    const bytes = body ?? NO_BODY;
    switch (type) {
      case FrontendCode.Query: return this.onQuery(bytes);
      case FrontendCode.Parse: return this.onParse(bytes);
      case FrontendCode.Bind: return this.onBind(bytes);
      case FrontendCode.Execute: return this.onExecute(bytes);
      case FrontendCode.Describe:
        this.queue.push(ACK);
        return;
      case FrontendCode.Close: {
        const close = attempt(decodeClose, bytes);
        // A Close the tap cannot read forgets nothing: the server's answer says whether anything was closed.
        if (!(close instanceof WireFormatError)) {
          if (close.target === 'statement') this.statements.delete(close.name);
          else this.portals.delete(close.name);
        }
        this.queue.push(ACK);
        return;
      }
      case FrontendCode.Sync:
        this.queue.skippingToSync = false;
        this.queue.push(SYNC);
        return;
      case FrontendCode.FunctionCall: {
        const call = attempt(decodeFunctionCall, bytes);
        const statement = call instanceof WireFormatError
          ? new StatementInFlight('function_call', `function ${salvageFunctionOid(bytes)}`, performance.now(), null, null, null, call.message)
          : new StatementInFlight('function_call', `function ${call.functionOid}`);
        this.queue.push({ type: 'function_call', statement });
        return;
      }
      case FrontendCode.CopyData: {
        const copying = this.queue.currentStatement();
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
        const statement = this.queue.currentStatement();
        if (statement) {
          statement.rows++;
          statement.bytes += totalLength;
        }
        return;
      }
      case BackendCode.CopyData: {
        const statement = this.queue.currentStatement();
        if (statement) statement.bytes += totalLength - 5;
        return;
      }
      case BackendCode.CopyInResponse:
      case BackendCode.CopyOutResponse: {
        const statement = this.queue.currentStatement();
        if (statement) statement.kind = type === BackendCode.CopyInResponse ? 'copy_in' : 'copy_out';
        return;
      }
      case BackendCode.CommandComplete:
        this.queue.complete(decodeCommandComplete(body as Uint8Array));
        return;
      case BackendCode.EmptyQueryResponse:
        this.queue.completeEmpty();
        return;
      case BackendCode.PortalSuspended:
        this.queue.complete({ tag: 'SUSPENDED', rows: null });
        return;
      case BackendCode.FunctionCallResponse:
        this.queue.functionCallDone();
        return;
      case BackendCode.ErrorResponse:
        this.queue.fail(decodeErrorResponse(body as Uint8Array));
        return;
      case BackendCode.ReadyForQuery:
        this.transactionStatus = decodeReadyForQuery(body as Uint8Array).status;
        this.queue.ready();
        return;
      case BackendCode.ParseComplete:
        this.queue.acknowledged('parse');
        return;
      case BackendCode.BindComplete:
        this.queue.acknowledged('bind');
        return;
      case BackendCode.CloseComplete:
      case BackendCode.NoData:
      case BackendCode.RowDescription:
        this.queue.acknowledged('ack');
        return;
      default:
        return;
    }
  }

  /** Everything still in flight is ended with `reason` (the session is going away); nothing is left unrecorded. */
  abandon(reason: { code: string; message: string }): void {
    this.queue.abandon(reason);
  }

  private onQuery(body: Uint8Array): void {
    const query = attempt(decodeQuery, body);
    const sql = query instanceof WireFormatError ? salvageLeadingStrings(body, 1)[0] ?? '' : query.sql;
    const { statements, source } = queryStatements(sql);
    this.queue.push({ type: 'query', statements, source, current: undefined, next: 0, nextStartedAt: performance.now(),
      undecoded: query instanceof WireFormatError ? query.message : null });
  }

  private onParse(body: Uint8Array): void {
    const parse = attempt(decodeParse, body);
    let name: string;
    let prepared: PreparedStatement;
    if (parse instanceof WireFormatError) {
      const [statement = '', sql = ''] = salvageLeadingStrings(body, 2);
      name = statement;
      prepared = { sql, paramTypes: [], undecoded: parse.message };
    } else {
      name = parse.statement;
      prepared = { sql: parse.sql, paramTypes: parse.paramTypes, undecoded: null };
    }
    this.statements.set(name, prepared);
    this.queue.push({ type: 'parse', name, prepared, queuedAt: performance.now() });
  }

  private onBind(body: Uint8Array): void {
    const bind = attempt(decodeBind, body);
    if (bind instanceof WireFormatError) {
      const [portal = '', statement = ''] = salvageLeadingStrings(body, 2);
      return this.bindPortal(portal, statement, [], bind.message);
    }
    let params: (string | null)[] = [];
    if (this.recorder.wantsParameters) {
      try {
        params = decodeBindParameters(bind, this.statements.get(bind.statement)?.paramTypes ?? []);
      } catch (error) {
        if (!(error instanceof WireFormatError)) throw error;
        return this.bindPortal(bind.portal, bind.statement, [], `Bind parameters: ${error.message}`);
      }
    }
    this.bindPortal(bind.portal, bind.statement, params, null);
  }

  private bindPortal(portal: string, statementName: string, params: readonly (string | null)[], undecoded: string | null): void {
    const prepared = this.statements.get(statementName);
    const bound: BoundPortal = { statementName, sql: prepared?.sql ?? '', params, undecoded: undecoded ?? prepared?.undecoded ?? null };
    this.portals.set(portal, bound);
    this.queue.push({ type: 'bind', portal, bound, queuedAt: performance.now() });
  }

  private onExecute(body: Uint8Array): void {
    const execute = attempt(decodeExecute, body);
    const portalName = execute instanceof WireFormatError ? salvageLeadingStrings(body, 1)[0] ?? '' : execute.portal;
    const portal = this.portals.get(portalName);
    const undecoded = execute instanceof WireFormatError ? execute.message : portal?.undecoded ?? null;
    this.queue.push({ type: 'execute', statement: new StatementInFlight('bind_execute', portal?.sql ?? '', performance.now(),
      portal?.params ?? null, portal?.statementName ?? '', portalName, undecoded) });
  }
}

/** A FunctionCall's function OID when at least its first field arrived. */
function salvageFunctionOid(body: Uint8Array): string {
  return body.length >= 4 ? String(new DataView(body.buffer, body.byteOffset, 4).getUint32(0)) : '?';
}
