// The MySQL tap: each client command and the server's response to it become statement events (DESIGN §6).
// MySQL is strictly one command, one response, so a single ResultReader follows the server; the tap remembers
// COM_STMT_PREPARE text by statement id and joins decoded COM_STMT_EXECUTE parameters (and long data) to it.
import type { ClientCommand } from '../../../protocols/mysql/client-commands.js';
import type { ErrFields } from '../../../protocols/mysql/server-results.js';
import { CapabilityFlag, hasFlag, SetOption } from '../../../protocols/mysql/constants.js';
import { responseKindFor, ResultReader, type ResultEvent } from '../../../protocols/mysql/result-reader.js';
import { decodeComStmtExecute, paramAuditText, type ComStmtExecute, type ParamType } from '../../../protocols/mysql/stmt-execute.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { StatementKind } from '../../audit/events.js';
import { StatementInFlight, type StatementOutcome } from '../../audit/statement-record.js';
import type { StatementRecorder } from '../../audit/statement-recorder.js';
import { answersWithSeveralResults, splitQueryStatements } from './query-statements.js';

interface PreparedStatement {
  readonly sql: string;
  readonly paramCount: number;
  boundTypes: readonly ParamType[] | null;
  longData: Map<number, number>;
}

/**
 * The command whose response is being read. One class, every field always present: built once per command on the
 * hot path, so no object spread (V8 takes a slow path for `{ ...a, more }`, microseconds per object).
 */
class InFlight {
  /** Results seen so far (a multi-statement COM_QUERY or CALL answers with several). */
  results = 0;
  /** Which of `statements` the next result belongs to. */
  statementIndex = 0;
  /** performance.now() when the command (or the previous result of it) was seen. */
  startedAt = performance.now();
  bytes = 0;

  constructor(
    readonly kind: StatementKind,
    readonly statements: readonly string[],
    readonly params: readonly (string | null)[] | null = null,
    readonly statementId: number | null = null,
    /** COM_STMT_PREPARE's text waits for the statement id in the PREPARE_OK. */
    readonly prepareSql: string | null = null,
    /** What of the command the tap could not decode (the server got it as sent). */
    readonly undecoded: string | null = null,
  ) {}
}

const NO_LONG_DATA: ReadonlySet<number> = new Set();

export class MysqlTap {
  private readonly reader: ResultReader;
  private readonly prepared = new Map<number, PreparedStatement>();
  private current: InFlight | undefined;
  /** The server reads a COM_QUERY as several statements only with CLIENT_MULTI_STATEMENTS (COM_SET_OPTION toggles it). */
  private multiStatements: boolean;

  constructor(private readonly recorder: StatementRecorder, private readonly capabilities: number, mariadbCapabilities: number,
    private readonly maxValueBytes: number) {
    this.reader = new ResultReader({ capabilities, mariadbCapabilities });
    this.multiStatements = hasFlag(capabilities, CapabilityFlag.CLIENT_MULTI_STATEMENTS);
  }

  /** A command was sent and its response is not complete yet. */
  get busy(): boolean {
    return !this.reader.done;
  }

  /** A command packet the relay forwarded (payload may be a retained prefix of `payloadLength` bytes). */
  onCommand(command: ClientCommand, payload: Uint8Array, payloadLength: number): void {
    const kind = responseKindFor(command);
    switch (command.type) {
      case 'query':
        this.current = new InFlight('query', splitQueryStatements(command.sql, this.multiStatements));
        break;
      case 'init_db':
        this.current = new InFlight('init_db', [`USE \`${command.database.replace(/`/g, '``')}\``]);
        break;
      case 'stmt_prepare':
        this.current = new InFlight('stmt_prepare', [command.sql], null, null, command.sql);
        break;
      case 'stmt_execute': {
        const statement = this.prepared.get(command.statementId);
        const { params, undecoded } = statement && this.recorder.wantsParameters
          ? this.executeParams(statement, payload, payloadLength) : { params: [], undecoded: null };
        statement?.longData.clear();
        this.current = new InFlight('stmt_execute', [statement?.sql ?? ''], params, command.statementId, null, undecoded);
        break;
      }
      case 'undecodable':
        // A statement the server runs (or refuses) all the same: on record, with what could not be read.
        if (kind === 'query' || kind === 'stmt_execute') {
          this.current = new InFlight(kind, [''], null, null, null, `${command.name}: ${command.reason}`);
        }
        break;
      case 'stmt_send_long_data': {
        const statement = this.prepared.get(command.statementId);
        if (statement) statement.longData.set(command.paramId, (statement.longData.get(command.paramId) ?? 0) + command.dataLength);
        break;
      }
      case 'stmt_close':
        this.prepared.delete(command.statementId);
        break;
      case 'stmt_reset':
        this.prepared.get(command.statementId)?.longData.clear();
        break;
      case 'set_option':
        if (command.option === SetOption.MYSQL_OPTION_MULTI_STATEMENTS_ON) this.multiStatements = true;
        if (command.option === SetOption.MYSQL_OPTION_MULTI_STATEMENTS_OFF) this.multiStatements = false;
        break;
      case 'reset_connection':
        // The server deallocates the session's prepared statements.
        this.prepared.clear();
        break;
      default:
        break;
    }
    if (kind !== 'none' && this.reader.done) this.reader.start(kind);
  }

  /**
   * An execute's parameter values as audit text. What cannot be decoded is named instead (the server reads the packet
   * for itself: bytes beyond the values it takes are ignored, a malformed one gets its ERR).
   */
  private executeParams(statement: PreparedStatement, payload: Uint8Array, payloadLength: number): { params: (string | null)[]; undecoded: string | null } {
    const longData = statement.longData.size === 0 ? NO_LONG_DATA : new Set(statement.longData.keys());
    let decoded: ComStmtExecute;
    try {
      decoded = decodeComStmtExecute(payload, { paramCount: statement.paramCount, boundTypes: statement.boundTypes, longDataParams: longData },
        { capabilities: this.capabilities, payloadLength, maxValueBytes: this.maxValueBytes });
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      return { params: [], undecoded: error.message };
    }
    if (decoded.newParamsBound) statement.boundTypes = decoded.paramTypes;
    const params = decoded.params.slice(0, statement.paramCount).map((param, index) =>
      (param.type === 'long_data' ? `[long data: ${statement.longData.get(index) ?? 0} bytes]` : paramAuditText(param)));
    const undecoded = decoded.trailingBytes === 0 ? null
      : `COM_STMT_EXECUTE: ${decoded.trailingBytes} bytes after the values of the statement's ${statement.paramCount} parameters (ignored by the server)`;
    return { params, undecoded };
  }

  /** A server packet of the current response. */
  onServerPacket(payload: Uint8Array, payloadLength: number): void {
    if (this.current) this.current.bytes += payloadLength + 4;
    if (this.reader.done) return; // an unsolicited packet (e.g. an ERR before closing) belongs to no command
    const event = this.reader.push(payload, payloadLength);
    if (event) this.onResult(event);
    if (this.reader.done) this.current = undefined;
  }

  /** jitgate answered the command itself with `err` (the server never saw it): a statement's outcome all the same. */
  onAnswered(command: ClientCommand, err: ErrFields): void {
    if (command.type !== 'query') return;
    this.record(new InFlight('query', [command.sql]), { error: { code: String(err.errno), message: err.message } });
  }

  /** The session is ending: a command still waiting for its answer is recorded with `error`. */
  abandon(error: { code: string; message: string }): void {
    if (this.current && this.current.results === 0) this.record(this.current, { error });
    this.current = undefined;
  }

  private onResult(event: ResultEvent): void {
    const flight = this.current;
    if (!flight) return;
    switch (event.type) {
      case 'ok':
        this.record(flight, { tag: 'OK', rows: event.ok.affectedRows });
        return;
      case 'err':
        this.record(flight, { error: { code: String(event.err.errno), message: event.err.message } });
        return;
      case 'result_set':
        this.record(flight, { tag: 'RESULT SET', rows: event.rowCount });
        return;
      case 'stmt_prepare_ok':
        this.prepared.set(event.statementId, { sql: flight.prepareSql ?? '', paramCount: event.paramCount, boundTypes: null, longData: new Map() });
        this.record(flight, { tag: 'PREPARE', rows: 0 });
        return;
      case 'local_infile_request':
        // CLIENT_LOCAL_FILES is cleared on both legs, so a server should never ask; if one does, it is on record.
        this.record(flight, { error: { code: 'LOCAL_INFILE', message: `server asked for local file ${event.filename}` } });
        return;
      default:
        return;
    }
  }

  private record(flight: InFlight, outcome: StatementOutcome): void {
    const sql = flight.statements[Math.min(flight.statementIndex, flight.statements.length - 1)] ?? '';
    flight.results++;
    // The next result is the next statement's, except within a CALL: its result sets, then the OK that ends it.
    if (outcome.tag !== 'RESULT SET' || flight.kind !== 'query' || !answersWithSeveralResults(sql)) flight.statementIndex++;
    const endedAt = performance.now();
    const statement = new StatementInFlight(flight.kind, sql, flight.startedAt, flight.params,
      flight.statementId === null ? null : String(flight.statementId), null, flight.undecoded);
    statement.bytes = flight.bytes;
    this.recorder.record(statement, outcome);
    // The next result of a multi-statement query starts timing afresh.
    flight.startedAt = endedAt;
    flight.bytes = 0;
  }
}
