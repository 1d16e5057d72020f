// The MySQL tap: each client command and the server's response to it become statement events (DESIGN §6).
// MySQL is strictly one command, one response, so a single ResultReader follows the server; the tap remembers
// COM_STMT_PREPARE text by statement id and joins decoded COM_STMT_EXECUTE parameters (and long data) to it.
import type { ClientCommand } from '../../../protocols/mysql/client-commands.js';
import { responseKindFor, ResultReader, type ResultEvent } from '../../../protocols/mysql/result-reader.js';
import { decodeComStmtExecute, paramAuditText, type ParamType } from '../../../protocols/mysql/stmt-execute.js';
import type { StatementFields, StatementKind } from '../../audit/events.js';
import type { StatementRecorder } from '../../audit/statement-recorder.js';
import { splitStatements } from '../../audit/statement-text.js';

interface PreparedStatement {
  readonly sql: string;
  readonly paramCount: number;
  boundTypes: readonly ParamType[] | null;
  longData: Map<number, number>;
}

interface InFlight {
  readonly kind: StatementKind;
  readonly statements: readonly string[];
  readonly params?: readonly (string | null)[];
  readonly statementId?: number;
  /** Results seen so far (a multi-statement COM_QUERY or CALL answers with several). */
  results: number;
  startedAt: number;
  startedIso: string;
  bytes: number;
  /** COM_STMT_PREPARE's text waits for the statement id in the PREPARE_OK. */
  readonly prepareSql?: string;
}

export class MysqlTap {
  private readonly reader: ResultReader;
  private readonly prepared = new Map<number, PreparedStatement>();
  private current: InFlight | undefined;

  constructor(private readonly recorder: StatementRecorder, private readonly capabilities: number, mariadbCapabilities: number,
    private readonly maxValueBytes: number) {
    this.reader = new ResultReader({ capabilities, mariadbCapabilities });
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
        this.begin({ kind: 'query', statements: splitStatements(command.sql, 'mysql') });
        break;
      case 'init_db':
        this.begin({ kind: 'init_db', statements: [`USE \`${command.database.replace(/`/g, '``')}\``] });
        break;
      case 'stmt_prepare':
        this.begin({ kind: 'stmt_prepare', statements: [command.sql], prepareSql: command.sql });
        break;
      case 'stmt_execute': {
        const statement = this.prepared.get(command.statementId);
        let params: (string | null)[] = [];
        if (statement && this.recorder.wantsParameters) {
          const longData = new Set(statement.longData.keys());
          const decoded = decodeComStmtExecute(payload, { paramCount: statement.paramCount, boundTypes: statement.boundTypes, longDataParams: longData },
            { capabilities: this.capabilities, payloadLength, maxValueBytes: this.maxValueBytes });
          if (decoded.newParamsBound) statement.boundTypes = decoded.paramTypes;
          params = decoded.params.slice(0, statement.paramCount).map((param, index) =>
            (param.type === 'long_data' ? `[long data: ${statement.longData.get(index) ?? 0} bytes]` : paramAuditText(param)));
        }
        statement?.longData.clear();
        this.begin({ kind: 'stmt_execute', statements: [statement?.sql ?? ''], params, statementId: command.statementId });
        break;
      }
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
      default:
        break;
    }
    if (kind !== 'none' && this.reader.done) this.reader.start(kind);
  }

  /** A server packet of the current response. */
  onServerPacket(payload: Uint8Array, payloadLength: number): void {
    if (this.current) this.current.bytes += payloadLength + 4;
    if (this.reader.done) return; // an unsolicited packet (e.g. an ERR before closing) belongs to no command
    const event = this.reader.push(payload, payloadLength);
    if (event) this.onResult(event);
    if (this.reader.done) this.current = undefined;
  }

  /** The session is ending: a command still waiting for its answer is recorded with `error`. */
  abandon(error: { code: string; message: string }): void {
    if (this.current && this.current.results === 0) this.record(this.current, { error });
    this.current = undefined;
  }

  private begin(flight: Omit<InFlight, 'results' | 'startedAt' | 'startedIso' | 'bytes'>): void {
    this.current = { ...flight, results: 0, startedAt: performance.now(), startedIso: new Date().toISOString(), bytes: 0 };
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

  private record(flight: InFlight, outcome: { tag?: string; rows?: number; error?: { code: string; message: string } }): void {
    const sql = flight.statements[Math.min(flight.results, flight.statements.length - 1)] ?? '';
    flight.results++;
    const fields: Omit<StatementFields, 'seq'> = {
      kind: flight.kind,
      sql,
      ...(flight.params && flight.params.length > 0 ? { params: flight.params } : {}),
      ...(flight.statementId !== undefined ? { statement_name: String(flight.statementId) } : {}),
      started: flight.startedIso,
      duration_us: Math.round((performance.now() - flight.startedAt) * 1000),
      ...(outcome.error ? { error: outcome.error } : { tag: outcome.tag ?? '', rows: outcome.rows ?? 0 }),
      bytes: flight.bytes,
    };
    this.recorder.record(fields);
    // The next result of a multi-statement query starts timing afresh.
    flight.startedAt = performance.now();
    flight.startedIso = new Date().toISOString();
    flight.bytes = 0;
  }
}
