// Binary-protocol values (dev.mysql.com "Binary Protocol Value", mariadb.com/kb "COM_STMT_EXECUTE"), read by the
// declared parameter type and rendered as audit text — never kept as bytes:
//   TINY 1 · SHORT/YEAR 2 · LONG/INT24 4 · LONGLONG 8 (signed, or unsigned by the type's flag) · FLOAT 4 · DOUBLE 8
//   DATE/DATETIME/TIMESTAMP: length byte 0/4/7/11 → "YYYY-MM-DD[ HH:MM:SS[.ffffff]]"
//   TIME: length byte 0/8/12 (sign, days, h, m, s[, µs]) → "[-]HH:MM:SS[.ffffff]" (hours include the days)
//   everything else: lenenc bytes; text types as UTF-8 (hex when not valid UTF-8), BLOB/BIT/GEOMETRY as 0x hex.
// Long values are cut to `maxValueBytes` with the true length noted: `…[20971520 bytes]`.
import { isUtf8 } from 'node:buffer';
import type { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { ColumnType } from './constants.js';
import { LENENC_NULL, utf8PrefixLength, utf8Text } from './lenenc.js';

export interface ParamType {
  readonly columnType: number;
  readonly unsigned: boolean;
}

/** One decoded parameter, as the audit sees it. */
export type ExecuteParam =
  | { readonly type: 'null' }
  | { readonly type: 'value'; readonly text: string }
  /** Sent earlier with COM_STMT_SEND_LONG_DATA: the bytes are not in this packet. */
  | { readonly type: 'long_data' }
  /** Past the bytes the framer retained (tap mode, payload beyond its cap). */
  | { readonly type: 'not_retained' };

export interface ValueTextOptions {
  /** Source bytes of one value shown in full; longer ones are cut with a length note (hex shows half as many). */
  readonly maxValueBytes: number;
  /** The packet view ends before the payload does (framer retain cap): running out is not an error then. */
  readonly truncated: boolean;
}

export const DEFAULT_MAX_VALUE_BYTES = 4096;

const NULL_PARAM: ExecuteParam = { type: 'null' };
const NOT_RETAINED: ExecuteParam = { type: 'not_retained' };
export const LONG_DATA_PARAM: ExecuteParam = { type: 'long_data' };
export const SQL_NULL_PARAM = NULL_PARAM;

const T = ColumnType;
const HEX_TYPES: ReadonlySet<number> = new Set([
  T.MYSQL_TYPE_TINY_BLOB, T.MYSQL_TYPE_MEDIUM_BLOB, T.MYSQL_TYPE_LONG_BLOB, T.MYSQL_TYPE_BLOB,
  T.MYSQL_TYPE_GEOMETRY, T.MYSQL_TYPE_BIT, T.MYSQL_TYPE_VECTOR,
]);
const TEXT_TYPES: ReadonlySet<number> = new Set([
  T.MYSQL_TYPE_DECIMAL, T.MYSQL_TYPE_NEWDECIMAL, T.MYSQL_TYPE_VARCHAR, T.MYSQL_TYPE_JSON, T.MYSQL_TYPE_ENUM,
  T.MYSQL_TYPE_SET, T.MYSQL_TYPE_VAR_STRING, T.MYSQL_TYPE_STRING,
]);
const DATE_TYPES: ReadonlySet<number> = new Set([T.MYSQL_TYPE_DATE, T.MYSQL_TYPE_NEWDATE]);
const DATETIME_TYPES: ReadonlySet<number> = new Set([T.MYSQL_TYPE_DATETIME, T.MYSQL_TYPE_TIMESTAMP, T.MYSQL_TYPE_DATETIME2, T.MYSQL_TYPE_TIMESTAMP2]);
const TIME_TYPES: ReadonlySet<number> = new Set([T.MYSQL_TYPE_TIME, T.MYSQL_TYPE_TIME2]);

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** The shortest decimal that reads back as the same float32 (0.1f is "0.1", not 0.10000000149011612). */
function float32Text(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(value);
}

function fixedSize(columnType: number): number {
  switch (columnType) {
    case T.MYSQL_TYPE_TINY: return 1;
    case T.MYSQL_TYPE_SHORT: case T.MYSQL_TYPE_YEAR: return 2;
    case T.MYSQL_TYPE_LONG: case T.MYSQL_TYPE_INT24: case T.MYSQL_TYPE_FLOAT: return 4;
    case T.MYSQL_TYPE_LONGLONG: case T.MYSQL_TYPE_DOUBLE: return 8;
    default: return 0;
  }
}

function readFixed(reader: ByteReader, { columnType, unsigned }: ParamType): string {
  switch (columnType) {
    case T.MYSQL_TYPE_TINY: return String(unsigned ? reader.readUint8('TINY') : reader.readInt8('TINY'));
    case T.MYSQL_TYPE_SHORT: case T.MYSQL_TYPE_YEAR:
      return String(unsigned ? reader.readUint16LE('SHORT') : reader.readInt16LE('SHORT'));
    case T.MYSQL_TYPE_LONG: case T.MYSQL_TYPE_INT24:
      return String(unsigned ? reader.readUint32LE('LONG') : reader.readInt32LE('LONG'));
    case T.MYSQL_TYPE_LONGLONG: return String(unsigned ? reader.readUint64LE('LONGLONG') : reader.readInt64LE('LONGLONG'));
    case T.MYSQL_TYPE_FLOAT: return float32Text(reader.readFloatLE('FLOAT'));
    default: return String(reader.readDoubleLE('DOUBLE'));
  }
}

function dateText(reader: ByteReader, length: number): string {
  if (length === 0) return '0000-00-00';
  const year = reader.readUint16LE('date year');
  return `${pad(year, 4)}-${pad(reader.readUint8('date month'), 2)}-${pad(reader.readUint8('date day'), 2)}`;
}

function temporalText(reader: ByteReader, columnType: number): string {
  const length = reader.readUint8('temporal length');
  if (TIME_TYPES.has(columnType)) {
    if (length !== 0 && length !== 8 && length !== 12) throw new WireFormatError(`TIME: length ${length}, expected 0, 8 or 12`);
    if (length === 0) return '00:00:00';
    const negative = reader.readUint8('time is_negative') === 1;
    const hours = reader.readUint32LE('time days') * 24 + reader.readUint8('time hour');
    const clock = `${negative ? '-' : ''}${pad(hours, 2)}:${pad(reader.readUint8('time minute'), 2)}:${pad(reader.readUint8('time second'), 2)}`;
    return length === 12 ? `${clock}.${pad(reader.readUint32LE('time microsecond'), 6)}` : clock;
  }
  if (length !== 0 && length !== 4 && length !== 7 && length !== 11) {
    throw new WireFormatError(`DATETIME: length ${length}, expected 0, 4, 7 or 11`);
  }
  const date = dateText(reader, length);
  if (DATE_TYPES.has(columnType)) {
    reader.skip(Math.max(0, length - 4), 'date time part');
    return date;
  }
  if (length < 7) return `${date} 00:00:00`;
  const time = `${pad(reader.readUint8('hour'), 2)}:${pad(reader.readUint8('minute'), 2)}:${pad(reader.readUint8('second'), 2)}`;
  return length === 11 ? `${date} ${time}.${pad(reader.readUint32LE('microsecond'), 6)}` : `${date} ${time}`;
}

/** Audit text of variable-length bytes: UTF-8 for text types when valid, else hex; cut with a note when long. */
export function bytesText(bytes: Uint8Array, totalLength: number, asText: boolean, maxValueBytes: number): string {
  if (asText) {
    const shown = bytes.subarray(0, Math.min(bytes.length, maxValueBytes));
    const cut = shown.length < totalLength;
    const whole = cut ? shown.subarray(0, utf8PrefixLength(shown)) : shown;
    if (isUtf8(whole)) return cut ? `${utf8Text(whole)}…[${totalLength} bytes]` : utf8Text(whole);
  }
  const shown = Math.min(bytes.length, Math.floor(maxValueBytes / 2));
  const hex = `0x${Buffer.from(bytes.buffer, bytes.byteOffset, shown).toString('hex')}`;
  return shown < totalLength ? `${hex}…[${totalLength} bytes]` : hex;
}

/** Reads one non-NULL value of `paramType` and renders it. */
export function readBinaryParam(reader: ByteReader, paramType: ParamType, options: ValueTextOptions): ExecuteParam {
  const { columnType } = paramType;
  if (columnType === T.MYSQL_TYPE_NULL) return NULL_PARAM;
  const size = fixedSize(columnType);
  if (size > 0) {
    if (options.truncated && reader.remaining < size) return notRetained(reader);
    return { type: 'value', text: readFixed(reader, paramType) };
  }
  if (DATE_TYPES.has(columnType) || DATETIME_TYPES.has(columnType) || TIME_TYPES.has(columnType)) {
    if (options.truncated && (reader.remaining < 1 || reader.remaining < 1 + reader.peekUint8('temporal length'))) {
      return notRetained(reader);
    }
    return { type: 'value', text: temporalText(reader, columnType) };
  }
  if (!HEX_TYPES.has(columnType) && !TEXT_TYPES.has(columnType)) {
    throw new WireFormatError(`parameter type 0x${columnType.toString(16)} has no binary encoding`);
  }
  if (options.truncated && !lenencPrefixFits(reader)) return notRetained(reader);
  const length = readValueLength(reader);
  if (length > reader.remaining && options.truncated) {
    return { type: 'value', text: bytesText(reader.readRest(), length, TEXT_TYPES.has(columnType), options.maxValueBytes) };
  }
  const bytes = reader.readBytes(length, 'parameter value');
  return { type: 'value', text: bytesText(bytes, length, TEXT_TYPES.has(columnType), options.maxValueBytes) };
}

function notRetained(reader: ByteReader): ExecuteParam {
  reader.readRest();
  return NOT_RETAINED;
}

function lenencPrefixFits(reader: ByteReader): boolean {
  if (reader.remaining < 1) return false;
  const first = reader.peekUint8('value length');
  const need = first === 0xfc ? 3 : first === 0xfd ? 4 : first === 0xfe ? 9 : 1;
  return reader.remaining >= need;
}

/** A value's lenenc length, which may be large (a 20 MB BLOB): only its prefix need be in the view. */
function readValueLength(reader: ByteReader): number {
  const first = reader.readUint8('value length');
  if (first < LENENC_NULL) return first;
  switch (first) {
    case 0xfc: return reader.readUint16LE('value length');
    case 0xfd: return reader.readUint24LE('value length');
    case 0xfe: {
      const value = reader.readUint64LE('value length');
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireFormatError(`value length ${value} is beyond 2^53`);
      return Number(value);
    }
    default: throw new WireFormatError(`value length: 0x${first.toString(16)} is not a length-encoded integer`);
  }
}

/** What the audit record holds for a parameter: text, or null for SQL NULL; long data and cut-off values are marked. */
export function paramAuditText(param: ExecuteParam): string | null {
  switch (param.type) {
    case 'null': return null;
    case 'value': return param.text;
    case 'long_data': return '[long data]';
    case 'not_retained': return '[not retained]';
  }
}
