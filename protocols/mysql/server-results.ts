// Server → client response packets of the command phase (dev.mysql.com "Generic Response Packets", mariadb.com/kb
// "OK_Packet", "ERR_Packet", "EOF_Packet", "Result Set Packets", "COM_STMT_PREPARE"): OK, ERR, EOF, the column count
// that opens a result set, LOCAL INFILE requests and COM_STMT_PREPARE_OK. Decoders take the negotiated capabilities
// (client & server), since the layout of OK and ERR depends on them.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { CapabilityFlag, hasFlag, MAX_FRAME_PAYLOAD, ServerStatus } from './constants.js';
import { copyBytes, readLenencBigInt, readLenencBytes, readLenencInt, utf8Text, writeLenencBytes, writeLenencInt } from './lenenc.js';

export const OK_HEADER = 0x00;
export const EOF_HEADER = 0xfe;
export const ERR_HEADER = 0xff;
export const LOCAL_INFILE_HEADER = 0xfb;
const SQLSTATE_MARKER = 0x23; // '#'

export interface OkPacket {
  readonly type: 'ok';
  /** 0x00, or 0xfe when the OK replaces an EOF (CLIENT_DEPRECATE_EOF). */
  readonly header: number;
  readonly affectedRows: number;
  readonly lastInsertId: bigint;
  readonly statusFlags: number;
  readonly warnings: number;
  readonly info: string;
  /** Raw session-state-change block (SERVER_SESSION_STATE_CHANGED), copied; null when absent. */
  readonly sessionStateChanges: Buffer | null;
}

export interface ErrPacket {
  readonly type: 'err';
  readonly errno: number;
  /** Null when the server sent none (errors before the 4.1 handshake completes, e.g. "Host … is not allowed"). */
  readonly sqlState: string | null;
  readonly message: string;
}

export interface EofPacket {
  readonly type: 'eof';
  readonly warnings: number;
  readonly statusFlags: number;
}

export interface LocalInfileRequest {
  readonly type: 'local_infile_request';
  readonly filename: string;
}

export interface StmtPrepareOk {
  readonly type: 'stmt_prepare_ok';
  readonly statementId: number;
  readonly columnCount: number;
  readonly paramCount: number;
  readonly warnings: number;
  /** MySQL CLIENT_OPTIONAL_RESULTSET_METADATA may skip the definitions; always true otherwise. */
  readonly metadataFollows: boolean;
}

export interface ColumnCount {
  readonly columnCount: number;
  /** False when MARIADB_CLIENT_CACHE_METADATA / CLIENT_OPTIONAL_RESULTSET_METADATA skipped the definitions. */
  readonly metadataFollows: boolean;
}

const protocol41 = (capabilities: number): boolean => hasFlag(capabilities, CapabilityFlag.CLIENT_PROTOCOL_41);

/** OK_Packet, with header 0x00 or 0xfe. The info string is lenenc with CLIENT_SESSION_TRACK, else the rest. */
export function decodeOkPacket(payload: Uint8Array, capabilities: number): OkPacket {
  const reader = new ByteReader(payload);
  const header = reader.readUint8('OK header');
  if (header !== OK_HEADER && header !== EOF_HEADER) throw new WireFormatError(`OK: header 0x${header.toString(16)}`);
  const affectedRows = readLenencInt(reader, 'OK affected_rows');
  const lastInsertId = readLenencBigInt(reader, 'OK last_insert_id');
  let statusFlags = 0;
  let warnings = 0;
  if (protocol41(capabilities)) {
    statusFlags = reader.readUint16LE('OK status_flags');
    warnings = reader.readUint16LE('OK warnings');
  } else if (hasFlag(capabilities, CapabilityFlag.CLIENT_TRANSACTIONS)) {
    statusFlags = reader.readUint16LE('OK status_flags');
  }
  let info = '';
  let sessionStateChanges: Buffer | null = null;
  // Servers omit an empty info entirely even with CLIENT_SESSION_TRACK (MariaDB's `00 00 00 02 00 00 00`).
  if (reader.remaining > 0) {
    if (hasFlag(capabilities, CapabilityFlag.CLIENT_SESSION_TRACK)) {
      info = utf8Text(readLenencBytes(reader, 'OK info'));
      if (hasFlag(statusFlags, ServerStatus.SERVER_SESSION_STATE_CHANGED) && reader.remaining > 0) {
        sessionStateChanges = copyBytes(readLenencBytes(reader, 'OK session_state_info'));
      }
    } else {
      info = utf8Text(reader.readRest());
    }
  }
  reader.expectEnd('OK');
  return { type: 'ok', header, affectedRows, lastInsertId, statusFlags, warnings, info, sessionStateChanges };
}

export interface OkFields {
  readonly affectedRows?: number;
  readonly lastInsertId?: bigint | number;
  readonly statusFlags: number;
  readonly warnings?: number;
  readonly info?: string;
}

/** An OK packet as servers write it; `header` 0xfe for the EOF-replacing form. Empty info is omitted. */
export function encodeOkPacket(fields: OkFields, capabilities: number, header = OK_HEADER): Buffer {
  const writer = new ByteWriter(32).writeUint8(header);
  writeLenencInt(writer, fields.affectedRows ?? 0);
  writeLenencInt(writer, fields.lastInsertId ?? 0);
  if (protocol41(capabilities)) writer.writeUint16LE(fields.statusFlags).writeUint16LE(fields.warnings ?? 0);
  else if (hasFlag(capabilities, CapabilityFlag.CLIENT_TRANSACTIONS)) writer.writeUint16LE(fields.statusFlags);
  const info = fields.info ?? '';
  if (info !== '') {
    if (hasFlag(capabilities, CapabilityFlag.CLIENT_SESSION_TRACK)) writeLenencBytes(writer, Buffer.from(info, 'utf8'));
    else writer.writeString(info);
  }
  return writer.toBuffer();
}

/** ERR_Packet. The '#' + 5-character SQLSTATE is read when present (4.1 servers always send it after the handshake). */
export function decodeErrPacket(payload: Uint8Array, capabilities: number): ErrPacket {
  const reader = new ByteReader(payload);
  const header = reader.readUint8('ERR header');
  if (header !== ERR_HEADER) throw new WireFormatError(`ERR: header 0x${header.toString(16)}`);
  const errno = reader.readUint16LE('ERR error_code');
  let sqlState: string | null = null;
  if (protocol41(capabilities) && reader.remaining >= 6 && reader.peekUint8('ERR sql_state_marker') === SQLSTATE_MARKER) {
    reader.skip(1, 'ERR sql_state_marker');
    sqlState = reader.readString(5, 'ERR sql_state');
  }
  const message = utf8Text(reader.readRest());
  return { type: 'err', errno, sqlState, message };
}

export interface ErrFields {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

export function encodeErrPacket(fields: ErrFields, capabilities: number): Buffer {
  if (!/^[0-9A-Z]{5}$/.test(fields.sqlState)) throw new RangeError(`SQLSTATE must be 5 characters [0-9A-Z]: ${fields.sqlState}`);
  const writer = new ByteWriter(16 + fields.message.length).writeUint8(ERR_HEADER).writeUint16LE(fields.errno);
  if (protocol41(capabilities)) writer.writeUint8(SQLSTATE_MARKER).writeString(fields.sqlState);
  return writer.writeString(fields.message).toBuffer();
}

/** EOF_Packet: 0xfe and fewer than 9 bytes (longer 0xfe packets are rows or EOF-replacing OKs). */
export function decodeEofPacket(payload: Uint8Array, capabilities: number): EofPacket {
  if (payload.length >= 9) throw new WireFormatError(`EOF: ${payload.length} bytes is too long for an EOF packet`);
  const reader = new ByteReader(payload);
  const header = reader.readUint8('EOF header');
  if (header !== EOF_HEADER) throw new WireFormatError(`EOF: header 0x${header.toString(16)}`);
  let warnings = 0;
  let statusFlags = 0;
  if (protocol41(capabilities)) {
    warnings = reader.readUint16LE('EOF warnings');
    statusFlags = reader.readUint16LE('EOF status_flags');
  }
  reader.expectEnd('EOF');
  return { type: 'eof', warnings, statusFlags };
}

/** The column count that opens a result set, with the metadata-follows byte when `metadataFollowsByte` says so. */
export function decodeColumnCount(payload: Uint8Array, metadataFollowsByte: boolean): ColumnCount {
  const reader = new ByteReader(payload);
  const columnCount = readLenencInt(reader, 'column_count');
  if (columnCount === 0) throw new WireFormatError('column_count: 0 (an OK packet was expected instead)');
  let metadataFollows = true;
  if (metadataFollowsByte) {
    const flag = reader.readUint8('metadata_follows');
    if (flag > 1) throw new WireFormatError(`metadata_follows: ${flag}`);
    metadataFollows = flag === 1;
  }
  reader.expectEnd('column count');
  return { columnCount, metadataFollows };
}

/** LOCAL INFILE request (0xfb + file name): the engine refuses it (CLIENT_LOCAL_FILES is cleared on both legs). */
export function decodeLocalInfileRequest(payload: Uint8Array): LocalInfileRequest {
  const reader = new ByteReader(payload);
  const header = reader.readUint8('LOCAL INFILE header');
  if (header !== LOCAL_INFILE_HEADER) throw new WireFormatError(`LOCAL INFILE: header 0x${header.toString(16)}`);
  return { type: 'local_infile_request', filename: utf8Text(reader.readRest()) };
}

/** COM_STMT_PREPARE_OK: 0x00, statement id, columns, params, filler, warnings [, metadata_follows]. */
export function decodeStmtPrepareOk(payload: Uint8Array, capabilities: number): StmtPrepareOk {
  const reader = new ByteReader(payload);
  const header = reader.readUint8('PREPARE_OK status');
  if (header !== OK_HEADER) throw new WireFormatError(`PREPARE_OK: header 0x${header.toString(16)}`);
  const statementId = reader.readUint32LE('PREPARE_OK statement_id');
  const columnCount = reader.readUint16LE('PREPARE_OK num_columns');
  const paramCount = reader.readUint16LE('PREPARE_OK num_params');
  reader.skip(1, 'PREPARE_OK reserved');
  // Pre-4.1 servers stopped here; every server we talk to sends the warning count.
  const warnings = reader.remaining > 0 ? reader.readUint16LE('PREPARE_OK warning_count') : 0;
  let metadataFollows = true;
  if (hasFlag(capabilities, CapabilityFlag.CLIENT_OPTIONAL_RESULTSET_METADATA) && reader.remaining > 0) {
    metadataFollows = reader.readUint8('PREPARE_OK metadata_follows') === 1;
  }
  reader.expectEnd('PREPARE_OK');
  return { type: 'stmt_prepare_ok', statementId, columnCount, paramCount, warnings, metadataFollows };
}

/** What a packet read where a row may appear is: a row, the end of the rows (EOF, or OK with DEPRECATE_EOF), or ERR. */
export type ResultPacketClass = 'row' | 'eof' | 'ok' | 'err';

/**
 * Classifies a packet in the row phase by its first byte and full payload length (mariadb.com/kb "Result Set
 * Packets"): 0xff is ERR (no row starts with 0xff: it is not a lenenc prefix); 0xfe ends the rows only when short —
 * under 9 bytes for EOF, under 0xffffff for the EOF-replacing OK — because a text row whose first value is 16 MiB or
 * more also starts with 0xfe. Everything else, including 0x00 (an empty first value; every binary row), is a row.
 */
export function classifyResultPacket(firstByte: number, payloadLength: number, deprecateEof: boolean): ResultPacketClass {
  if (firstByte === ERR_HEADER) return 'err';
  if (firstByte === EOF_HEADER) {
    if (deprecateEof) return payloadLength < MAX_FRAME_PAYLOAD ? 'ok' : 'row';
    return payloadLength < 9 ? 'eof' : 'row';
  }
  return 'row';
}
