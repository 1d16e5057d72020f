// Command-phase packets (client → server; dev.mysql.com "Text Protocol", "Prepared Statements", "Replication
// Protocol"; mariadb.com/kb "COM_*"). The first byte names the command; the decoders below follow the docs' names.
// COM_STMT_EXECUTE needs per-statement state, so here it is only recognised (with its id); `stmt-execute.ts` decodes
// it. In tap mode the payload may be the framer's retained prefix: pass the true `payloadLength`, and SQL text comes
// back cut at a character boundary with `sqlTruncated` set and the original byte length recorded.
// Bytes after a command's fields are ignored, as MariaDB and MySQL do (they read the fields they need). A body too
// short for its fields is a WireFormatError here; the relay then forwards the packet as an `undecodable` command
// (undecodableCommand) and the server answers it for itself — only framing errors end a session.
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { DEFAULT_MAX_VALUE_BYTES, readBinaryParam, SQL_NULL_PARAM, type ExecuteParam } from './binary-values.js';
import { CapabilityFlag, Command, commandName, hasFlag, PARAM_UNSIGNED_FLAG } from './constants.js';
import { decodeUtf8Prefix, readLenencInt, readLenencString, utf8Text } from './lenenc.js';
import type { QueryAttribute } from './stmt-execute.js';

/** SQL text as the tap keeps it: decoded (possibly cut), with its true size. */
export interface SqlText {
  readonly sql: string;
  /** Bytes of SQL in the full payload (what the audit records as the original length). */
  readonly sqlByteLength: number;
  readonly sqlTruncated: boolean;
}

export type ClientCommand =
  | { readonly type: 'quit' }
  | { readonly type: 'init_db'; readonly database: string }
  | ({ readonly type: 'query'; readonly attributes: readonly QueryAttribute[] } & SqlText)
  | { readonly type: 'field_list'; readonly table: string; readonly wildcard: string }
  | { readonly type: 'statistics' }
  | { readonly type: 'ping' }
  | { readonly type: 'change_user' }
  | { readonly type: 'binlog_dump' }
  | { readonly type: 'binlog_dump_gtid' }
  | { readonly type: 'register_slave' }
  | ({ readonly type: 'stmt_prepare' } & SqlText)
  /** Decode the rest with `decodeComStmtExecute` and the statement's state. */
  | { readonly type: 'stmt_execute'; readonly statementId: number }
  | { readonly type: 'stmt_send_long_data'; readonly statementId: number; readonly paramId: number;
      /** View of the chunk of data in this packet (valid during the callback only). */
      readonly data: Uint8Array; readonly dataLength: number }
  | { readonly type: 'stmt_close'; readonly statementId: number }
  | { readonly type: 'stmt_reset'; readonly statementId: number }
  | { readonly type: 'stmt_fetch'; readonly statementId: number; readonly rowCount: number }
  | { readonly type: 'stmt_bulk_execute'; readonly statementId: number; readonly flags: number }
  | { readonly type: 'set_option'; readonly option: number }
  | { readonly type: 'reset_connection' }
  /** KILL CONNECTION by command (deprecated by MySQL, still served by both servers); the id is the greeting's. */
  | { readonly type: 'process_kill'; readonly connectionId: number }
  /** A command servers define that jitgate does not decode (COM_REFRESH, COM_SHUTDOWN, …). */
  | { readonly type: 'other'; readonly command: number; readonly name: string }
  /** A byte no server defines: answer ER_UNKNOWN_COM_ERROR. */
  | { readonly type: 'unknown'; readonly command: number }
  /** A known command whose body could not be decoded (see undecodableCommand); relayed as sent. */
  | { readonly type: 'undecodable'; readonly command: number; readonly name: string; readonly reason: string };

export interface ClientCommandOptions {
  /** Negotiated capabilities: CLIENT_QUERY_ATTRIBUTES changes COM_QUERY. */
  readonly capabilities: number;
  /** The full payload length when `payload` is the framer's retained prefix. */
  readonly payloadLength?: number;
  readonly maxValueBytes?: number;
}

const OTHER_COMMANDS: ReadonlySet<number> = new Set([
  Command.COM_SLEEP, Command.COM_CREATE_DB, Command.COM_DROP_DB, Command.COM_REFRESH, Command.COM_SHUTDOWN,
  Command.COM_PROCESS_INFO, Command.COM_CONNECT, Command.COM_DEBUG, Command.COM_TIME,
  Command.COM_DELAYED_INSERT, Command.COM_TABLE_DUMP, Command.COM_CONNECT_OUT, Command.COM_DAEMON, Command.COM_CLONE,
]);

function sqlText(reader: ByteReader, payloadLength: number): SqlText {
  const sqlByteLength = payloadLength - reader.position;
  const bytes = reader.readRest();
  const sqlTruncated = bytes.length < sqlByteLength;
  return { sql: decodeUtf8Prefix(bytes, sqlTruncated), sqlByteLength, sqlTruncated };
}

/** MySQL 8 COM_QUERY with CLIENT_QUERY_ATTRIBUTES: parameter count, set count, then attributes like an execute. */
function readQueryAttributes(reader: ByteReader, options: ClientCommandOptions, truncated: boolean): QueryAttribute[] {
  const count = readLenencInt(reader, 'COM_QUERY parameter_count');
  const sets = readLenencInt(reader, 'COM_QUERY parameter_set_count');
  if (sets !== 1) throw new WireFormatError(`COM_QUERY: parameter_set_count ${sets}, expected 1`);
  if (count === 0) return [];
  const nullBitmap = reader.readBytes(Math.ceil(count / 8), 'COM_QUERY null_bitmap');
  const bound = reader.readUint8('COM_QUERY new_params_bind_flag');
  if (bound !== 1) throw new WireFormatError(`COM_QUERY: new_params_bind_flag ${bound}, expected 1`);
  const types: { columnType: number; unsigned: boolean; name: string }[] = [];
  for (let i = 0; i < count; i++) {
    const columnType = reader.readUint8('COM_QUERY param_type');
    const unsigned = (reader.readUint8('COM_QUERY param_flag') & PARAM_UNSIGNED_FLAG) !== 0;
    types.push({ columnType, unsigned, name: readLenencString(reader, 'COM_QUERY parameter_name') });
  }
  const valueOptions = { maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES, truncated };
  return types.map((type, i): QueryAttribute => {
    const isNull = ((nullBitmap[i >> 3] as number) & (1 << (i & 7))) !== 0;
    const value: ExecuteParam = isNull ? SQL_NULL_PARAM : readBinaryParam(reader, type, valueOptions);
    return { name: type.name, value };
  });
}

function statementId(reader: ByteReader, what: string): number {
  return reader.readUint32LE(`${what} statement_id`);
}

export function decodeClientCommand(payload: Uint8Array, options: ClientCommandOptions): ClientCommand {
  const payloadLength = options.payloadLength ?? payload.length;
  const truncated = payloadLength > payload.length;
  const reader = new ByteReader(payload);
  if (payload.length === 0) throw new WireFormatError('command packet: empty payload');
  const command = reader.readUint8('command');
  switch (command) {
    case Command.COM_QUIT: return { type: 'quit' };
    case Command.COM_PING: return { type: 'ping' };
    case Command.COM_STATISTICS: return { type: 'statistics' };
    case Command.COM_RESET_CONNECTION: return { type: 'reset_connection' };
    case Command.COM_INIT_DB: return { type: 'init_db', database: utf8Text(reader.readRest()) };
    case Command.COM_QUERY: {
      const attributes = hasFlag(options.capabilities, CapabilityFlag.CLIENT_QUERY_ATTRIBUTES)
        ? readQueryAttributes(reader, options, truncated) : [];
      return { type: 'query', attributes, ...sqlText(reader, payloadLength) };
    }
    case Command.COM_STMT_PREPARE: return { type: 'stmt_prepare', ...sqlText(reader, payloadLength) };
    case Command.COM_FIELD_LIST: {
      const table = reader.readCString('COM_FIELD_LIST table');
      return { type: 'field_list', table, wildcard: utf8Text(reader.readRest()) };
    }
    case Command.COM_STMT_EXECUTE: return { type: 'stmt_execute', statementId: statementId(reader, 'COM_STMT_EXECUTE') };
    case Command.COM_STMT_SEND_LONG_DATA: {
      const id = statementId(reader, 'COM_STMT_SEND_LONG_DATA');
      const paramId = reader.readUint16LE('COM_STMT_SEND_LONG_DATA param_id');
      const dataLength = payloadLength - reader.position;
      return { type: 'stmt_send_long_data', statementId: id, paramId, data: reader.readRest(), dataLength };
    }
    case Command.COM_STMT_CLOSE: return { type: 'stmt_close', statementId: statementId(reader, 'COM_STMT_CLOSE') };
    case Command.COM_STMT_RESET: return { type: 'stmt_reset', statementId: statementId(reader, 'COM_STMT_RESET') };
    case Command.COM_STMT_FETCH: {
      const id = statementId(reader, 'COM_STMT_FETCH');
      return { type: 'stmt_fetch', statementId: id, rowCount: reader.readUint32LE('COM_STMT_FETCH num_rows') };
    }
    case Command.COM_STMT_BULK_EXECUTE: {
      const id = statementId(reader, 'COM_STMT_BULK_EXECUTE');
      return { type: 'stmt_bulk_execute', statementId: id, flags: reader.readUint16LE('COM_STMT_BULK_EXECUTE flags') };
    }
    case Command.COM_SET_OPTION: return { type: 'set_option', option: reader.readUint16LE('COM_SET_OPTION option') };
    case Command.COM_PROCESS_KILL: return { type: 'process_kill', connectionId: reader.readUint32LE('COM_PROCESS_KILL connection_id') };
    // Recognised only, to be refused: their bodies are never needed.
    case Command.COM_CHANGE_USER: return { type: 'change_user' };
    case Command.COM_BINLOG_DUMP: return { type: 'binlog_dump' };
    case Command.COM_BINLOG_DUMP_GTID: return { type: 'binlog_dump_gtid' };
    case Command.COM_REGISTER_SLAVE: return { type: 'register_slave' };
    default:
      if (OTHER_COMMANDS.has(command)) return { type: 'other', command, name: commandName(command) };
      return { type: 'unknown', command };
  }
}

/**
 * What the relay makes of a command packet whose body failed to decode with `reason`: the command byte still says
 * which response the server gives. An empty packet is read as COM_SLEEP, as MariaDB does (the server answers it
 * with ER_UNKNOWN_COM_ERROR).
 */
export function undecodableCommand(payload: Uint8Array, reason: string): ClientCommand & { readonly type: 'undecodable' } {
  const command = payload.length === 0 ? Command.COM_SLEEP : payload[0] as number;
  return { type: 'undecodable', command, name: commandName(command), reason };
}

/** COM_PROCESS_KILL (client → server): 0x0c · 4 connection id. */
export function encodeComProcessKill(connectionId: number): Buffer {
  const payload = Buffer.alloc(5);
  payload[0] = Command.COM_PROCESS_KILL;
  payload.writeUInt32LE(connectionId >>> 0, 1);
  return payload;
}
