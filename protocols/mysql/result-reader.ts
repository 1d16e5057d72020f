// The response side of one command, as a pure state machine the tap feeds with server packets (mariadb.com/kb "Result
// Set Packets", "COM_STMT_PREPARE", dev.mysql.com "COM_QUERY Response"). It reports one event per result — an OK,
// an ERR, a result set (column count and types, rows counted, never decoded), a LOCAL INFILE request — in order, so
// a multi-statement COM_QUERY yields one event per statement, and says when the command's response is complete
// (`done`). Capabilities decide the shape: CLIENT_DEPRECATE_EOF (no EOF after columns; an OK with header 0xfe ends
// the rows), MARIADB_CLIENT_CACHE_METADATA / CLIENT_OPTIONAL_RESULTSET_METADATA (a metadata-follows byte),
// MARIADB_CLIENT_EXTENDED_METADATA (longer column definitions), MARIADB_CLIENT_PROGRESS (ERR 0xffff = progress).
import { assertNever } from '../shared/assert-never.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import type { ClientCommand } from './client-commands.js';
import { CapabilityFlag, Command, hasFlag, MariadbCapabilityFlag, ServerStatus } from './constants.js';
import { utf8Text } from './lenenc.js';
import { scanColumnType } from './server-column-definition.js';
import {
  classifyResultPacket, decodeColumnCount, decodeEofPacket, decodeErrPacket, decodeLocalInfileRequest, decodeOkPacket,
  decodeStmtPrepareOk, EOF_HEADER, ERR_HEADER, LOCAL_INFILE_HEADER, OK_HEADER, type EofPacket, type ErrPacket, type OkPacket,
} from './server-results.js';

/** What kind of response the command that was just sent gets. */
export type ResponseKind =
  | 'query' | 'stmt_execute' | 'stmt_prepare' | 'stmt_fetch' | 'field_list' | 'statistics' | 'simple' | 'none';

export type ResultEvent =
  | { readonly type: 'ok'; readonly ok: OkPacket }
  /** COM_SET_OPTION / COM_DEBUG answer with an EOF when CLIENT_DEPRECATE_EOF is off. */
  | { readonly type: 'eof'; readonly eof: EofPacket }
  /** `columnCount`/`rowCount` say how far a result set got before the error (0 outside one). */
  | { readonly type: 'err'; readonly err: ErrPacket; readonly columnCount: number; readonly rowCount: number }
  | {
      readonly type: 'result_set'; readonly columnCount: number;
      /** Null when the server skipped the metadata (cached by the client). */
      readonly columnTypes: readonly number[] | null;
      readonly rowCount: number; readonly statusFlags: number; readonly warnings: number;
      /** COM_STMT_EXECUTE opened a cursor: rows come from COM_STMT_FETCH. */
      readonly cursorOpened: boolean;
    }
  | { readonly type: 'rows_fetched'; readonly rowCount: number; readonly statusFlags: number; readonly lastRowSent: boolean }
  | { readonly type: 'local_infile_request'; readonly filename: string }
  | {
      readonly type: 'stmt_prepare_ok'; readonly statementId: number; readonly paramCount: number;
      readonly columnCount: number; readonly warnings: number;
    }
  | { readonly type: 'field_list'; readonly columnCount: number }
  | { readonly type: 'statistics'; readonly text: string };

export interface ResultReaderOptions {
  /** Negotiated (client & server) capabilities. */
  readonly capabilities: number;
  /** Negotiated MariaDB extended capabilities (0 against MySQL). */
  readonly mariadbCapabilities?: number;
}

type State =
  | 'idle' | 'first' | 'columns' | 'columns_eof' | 'rows' | 'infile_reply'
  | 'prepare_first' | 'prepare_params' | 'prepare_params_eof' | 'prepare_columns' | 'prepare_columns_eof'
  | 'field_list' | 'statistics' | 'simple';

/** The response kind a decoded command expects (what the tap passes to `start`). */
export function responseKindFor(command: ClientCommand): ResponseKind {
  switch (command.type) {
    case 'query': return 'query';
    case 'stmt_execute': case 'stmt_bulk_execute': return 'stmt_execute';
    case 'stmt_prepare': return 'stmt_prepare';
    case 'stmt_fetch': return 'stmt_fetch';
    case 'field_list': return 'field_list';
    case 'statistics': return 'statistics';
    case 'quit': case 'stmt_close': case 'stmt_send_long_data': return 'none';
    case 'other': return command.command === Command.COM_PROCESS_INFO ? 'query' : 'simple';
    case 'init_db': case 'ping': case 'stmt_reset': case 'set_option': case 'reset_connection': case 'unknown': case 'process_kill':
    case 'change_user': case 'binlog_dump': case 'binlog_dump_gtid': case 'register_slave':
      return 'simple';
    case 'undecodable': return responseKindForCommandByte(command.command);
    default: return assertNever(command, 'client command');
  }
}

/** The same, from the command byte alone: for a command whose body could not be decoded. */
export function responseKindForCommandByte(command: number): ResponseKind {
  switch (command) {
    case Command.COM_QUERY: case Command.COM_PROCESS_INFO: return 'query';
    case Command.COM_STMT_EXECUTE: case Command.COM_STMT_BULK_EXECUTE: return 'stmt_execute';
    case Command.COM_STMT_PREPARE: return 'stmt_prepare';
    case Command.COM_STMT_FETCH: return 'stmt_fetch';
    case Command.COM_FIELD_LIST: return 'field_list';
    case Command.COM_STATISTICS: return 'statistics';
    case Command.COM_QUIT: case Command.COM_STMT_CLOSE: case Command.COM_STMT_SEND_LONG_DATA: return 'none';
    default: return 'simple';
  }
}

export class ResultReader {
  private state: State = 'idle';
  private kind: ResponseKind = 'none';
  private columnCount = 0;
  private columnsLeft = 0;
  private columnTypes: number[] | null = null;
  private rowCount = 0;
  private statementId = 0;
  private paramCount = 0;
  private warnings = 0;
  private readonly capabilities: number;
  private readonly deprecateEof: boolean;
  private readonly metadataFollowsByte: boolean;
  private readonly extendedMetadata: { readonly extendedMetadata: boolean };
  private readonly progressReports: boolean;

  constructor(options: ResultReaderOptions) {
    const caps = options.capabilities;
    const mariadb = options.mariadbCapabilities ?? 0;
    this.capabilities = caps;
    this.deprecateEof = hasFlag(caps, CapabilityFlag.CLIENT_DEPRECATE_EOF);
    this.metadataFollowsByte = hasFlag(caps, CapabilityFlag.CLIENT_OPTIONAL_RESULTSET_METADATA)
      || hasFlag(mariadb, MariadbCapabilityFlag.MARIADB_CLIENT_CACHE_METADATA);
    this.extendedMetadata = { extendedMetadata: hasFlag(mariadb, MariadbCapabilityFlag.MARIADB_CLIENT_EXTENDED_METADATA) };
    this.progressReports = hasFlag(mariadb, MariadbCapabilityFlag.MARIADB_CLIENT_PROGRESS);
  }

  /** True when no response is pending: the last command's response is complete. */
  get done(): boolean {
    return this.state === 'idle';
  }

  /** Begins the response to a command just sent. Responses do not overlap: start the next one once `done`. */
  start(kind: ResponseKind): void {
    if (this.state !== 'idle') throw new Error(`ResultReader: response to a ${this.kind} is still incomplete`);
    this.kind = kind;
    this.rowCount = 0;
    this.columnCount = 0;
    switch (kind) {
      case 'query': case 'stmt_execute': this.state = 'first'; break;
      case 'stmt_prepare': this.state = 'prepare_first'; break;
      case 'stmt_fetch': this.state = 'rows'; break;
      case 'field_list': this.state = 'field_list'; break;
      case 'statistics': this.state = 'statistics'; break;
      case 'simple': this.state = 'simple'; break;
      case 'none': this.state = 'idle'; break;
      default: assertNever(kind, 'response kind');
    }
  }

  /** Feeds one server packet (`payloadLength` is its full length when `payload` is a retained prefix). */
  push(payload: Uint8Array, payloadLength: number = payload.length): ResultEvent | null {
    const first = payload[0];
    if (first === undefined) throw new WireFormatError('server packet: empty payload');
    if (first === ERR_HEADER) {
      if (this.state !== 'idle' && this.progressReports && payload[1] === 0xff && payload[2] === 0xff) return null;
      return this.error(payload);
    }
    switch (this.state) {
      case 'idle':
        throw new WireFormatError(`server packet 0x${first.toString(16)} while no command is pending`);
      case 'first':
        if (first === OK_HEADER) return this.okResult(decodeOkPacket(payload, this.capabilities));
        if (first === LOCAL_INFILE_HEADER) {
          this.state = 'infile_reply';
          return decodeLocalInfileRequest(payload);
        }
        if (first === EOF_HEADER) throw new WireFormatError('result: 0xfe where a result begins');
        return this.beginResultSet(payload);
      case 'columns':
        this.column(payload);
        if (--this.columnsLeft === 0) this.state = this.deprecateEof ? 'rows' : 'columns_eof';
        return null;
      case 'columns_eof': {
        const eof = decodeEofPacket(payload, this.capabilities);
        if (hasFlag(eof.statusFlags, ServerStatus.SERVER_STATUS_CURSOR_EXISTS)) return this.endRows(eof.statusFlags, eof.warnings);
        this.state = 'rows';
        return null;
      }
      case 'rows':
        switch (classifyResultPacket(first, payloadLength, this.deprecateEof)) {
          case 'row': this.rowCount++; return null;
          case 'eof': {
            const eof = decodeEofPacket(payload, this.capabilities);
            return this.endRows(eof.statusFlags, eof.warnings);
          }
          case 'ok': {
            const ok = decodeOkPacket(payload, this.capabilities);
            return this.endRows(ok.statusFlags, ok.warnings);
          }
          case 'err': return this.error(payload);
        }
        break;
      case 'infile_reply':
        if (first !== OK_HEADER) throw new WireFormatError(`LOCAL INFILE reply: header 0x${first.toString(16)}`);
        return this.okResult(decodeOkPacket(payload, this.capabilities));
      case 'prepare_first': {
        const ok = decodeStmtPrepareOk(payload, this.capabilities);
        this.statementId = ok.statementId;
        this.paramCount = ok.paramCount;
        this.columnCount = ok.columnCount;
        this.warnings = ok.warnings;
        if (!ok.metadataFollows) return this.prepared();
        this.columnsLeft = ok.paramCount;
        return this.afterPrepareParams(ok.paramCount > 0 ? 'prepare_params' : null);
      }
      case 'prepare_params':
        this.column(payload);
        if (--this.columnsLeft === 0) return this.afterPrepareParams(this.deprecateEof ? null : 'prepare_params_eof');
        return null;
      case 'prepare_params_eof':
        decodeEofPacket(payload, this.capabilities);
        return this.afterPrepareParams(null);
      case 'prepare_columns':
        this.column(payload);
        if (--this.columnsLeft === 0) {
          if (this.deprecateEof) return this.prepared();
          this.state = 'prepare_columns_eof';
        }
        return null;
      case 'prepare_columns_eof':
        decodeEofPacket(payload, this.capabilities);
        return this.prepared();
      case 'field_list': {
        const cls = classifyResultPacket(first, payloadLength, this.deprecateEof);
        if (cls === 'row') {
          this.column(payload);
          this.columnCount++;
          return null;
        }
        if (cls === 'eof') decodeEofPacket(payload, this.capabilities);
        else decodeOkPacket(payload, this.capabilities);
        this.state = 'idle';
        return { type: 'field_list', columnCount: this.columnCount };
      }
      case 'statistics':
        this.state = 'idle';
        return { type: 'statistics', text: utf8Text(payload) };
      case 'simple':
        this.state = 'idle';
        if (first === OK_HEADER) return { type: 'ok', ok: decodeOkPacket(payload, this.capabilities) };
        if (first === EOF_HEADER) {
          return this.deprecateEof
            ? { type: 'ok', ok: decodeOkPacket(payload, this.capabilities) }
            : { type: 'eof', eof: decodeEofPacket(payload, this.capabilities) };
        }
        throw new WireFormatError(`response: unexpected header 0x${first.toString(16)}`);
      default:
        return assertNever(this.state, 'result reader state');
    }
    return null;
  }

  private column(payload: Uint8Array): void {
    const type = scanColumnType(payload, this.extendedMetadata);
    if (this.columnTypes !== null && this.state === 'columns') this.columnTypes.push(type);
  }

  private beginResultSet(payload: Uint8Array): null {
    const { columnCount, metadataFollows } = decodeColumnCount(payload, this.metadataFollowsByte);
    this.columnCount = columnCount;
    this.columnsLeft = columnCount;
    this.columnTypes = metadataFollows ? [] : null;
    this.rowCount = 0;
    this.state = metadataFollows ? 'columns' : this.deprecateEof ? 'rows' : 'columns_eof';
    return null;
  }

  /** After an OK or a result set: another result follows only when the server says so. */
  private next(statusFlags: number): void {
    const multi = this.kind === 'query' || this.kind === 'stmt_execute';
    this.state = multi && hasFlag(statusFlags, ServerStatus.SERVER_MORE_RESULTS_EXISTS) ? 'first' : 'idle';
  }

  private okResult(ok: OkPacket): ResultEvent {
    this.next(ok.statusFlags);
    return { type: 'ok', ok };
  }

  private endRows(statusFlags: number, warnings: number): ResultEvent {
    const rowCount = this.rowCount;
    if (this.kind === 'stmt_fetch') {
      this.state = 'idle';
      return { type: 'rows_fetched', rowCount, statusFlags, lastRowSent: hasFlag(statusFlags, ServerStatus.SERVER_STATUS_LAST_ROW_SENT) };
    }
    const event: ResultEvent = {
      type: 'result_set', columnCount: this.columnCount, columnTypes: this.columnTypes, rowCount, statusFlags, warnings,
      cursorOpened: hasFlag(statusFlags, ServerStatus.SERVER_STATUS_CURSOR_EXISTS),
    };
    this.columnTypes = null;
    this.next(statusFlags);
    return event;
  }

  /** An ERR ends the whole response (a multi-statement batch stops at its first error); unsolicited ones are reported. */
  private error(payload: Uint8Array): ResultEvent {
    const err = decodeErrPacket(payload, this.capabilities);
    const inResult = this.state === 'columns' || this.state === 'columns_eof' || this.state === 'rows';
    const event: ResultEvent = { type: 'err', err, columnCount: inResult ? this.columnCount : 0, rowCount: inResult ? this.rowCount : 0 };
    this.state = 'idle';
    this.columnTypes = null;
    return event;
  }

  private afterPrepareParams(paramState: 'prepare_params' | 'prepare_params_eof' | null): ResultEvent | null {
    if (paramState !== null) {
      this.state = paramState;
      return null;
    }
    if (this.columnCount === 0) return this.prepared();
    this.columnsLeft = this.columnCount;
    this.state = 'prepare_columns';
    return null;
  }

  private prepared(): ResultEvent {
    this.state = 'idle';
    return {
      type: 'stmt_prepare_ok', statementId: this.statementId, paramCount: this.paramCount,
      columnCount: this.columnCount, warnings: this.warnings,
    };
  }
}
