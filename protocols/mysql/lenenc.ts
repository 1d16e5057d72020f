// Length-encoded integers and strings (dev.mysql.com "Integer Types" / "String Types"): the first byte decides —
// < 0xfb is the value itself, 0xfc/0xfd/0xfe prefix 2/3/8 little-endian bytes, 0xfb is NULL (rows only), 0xff is
// never a length (it is the ERR header). The writer always emits the minimal form: a value is written with the
// shortest prefix that holds it, so 0xffff is `fc ff ff` and 0x10000 is `fd 00 00 01` (mysql2 gets both edges wrong).
import type { ByteReader } from '../shared/byte-reader.js';
import type { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';

export const LENENC_NULL = 0xfb;
const PREFIX_2 = 0xfc;
const PREFIX_3 = 0xfd;
const PREFIX_8 = 0xfe;

/** A length-encoded integer as a bigint, or null for the 0xfb NULL marker. */
export function readLenencBigIntOrNull(reader: ByteReader, field: string): bigint | null {
  const first = reader.readUint8(field);
  if (first < LENENC_NULL) return BigInt(first);
  switch (first) {
    case LENENC_NULL: return null;
    case PREFIX_2: return BigInt(reader.readUint16LE(field));
    case PREFIX_3: return BigInt(reader.readUint24LE(field));
    case PREFIX_8: return reader.readUint64LE(field);
    default: throw new WireFormatError(`${field}: 0x${first.toString(16)} is not a length-encoded integer`);
  }
}

export function readLenencBigInt(reader: ByteReader, field: string): bigint {
  const value = readLenencBigIntOrNull(reader, field);
  if (value === null) throw new WireFormatError(`${field}: unexpected NULL (0xfb)`);
  return value;
}

/** A length-encoded integer as a number, or null for 0xfb; values above 2^53 − 1 are a WireFormatError. */
export function readLenencIntOrNull(reader: ByteReader, field: string): number | null {
  const first = reader.readUint8(field);
  if (first < LENENC_NULL) return first;
  switch (first) {
    case LENENC_NULL: return null;
    case PREFIX_2: return reader.readUint16LE(field);
    case PREFIX_3: return reader.readUint24LE(field);
    case PREFIX_8: {
      const value = reader.readUint64LE(field);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireFormatError(`${field}: ${value} is beyond 2^53`);
      return Number(value);
    }
    default: throw new WireFormatError(`${field}: 0x${first.toString(16)} is not a length-encoded integer`);
  }
}

export function readLenencInt(reader: ByteReader, field: string): number {
  const value = readLenencIntOrNull(reader, field);
  if (value === null) throw new WireFormatError(`${field}: unexpected NULL (0xfb)`);
  return value;
}

/** `string<lenenc>` as a view (no copy). The declared length is checked against what remains before anything else. */
export function readLenencBytes(reader: ByteReader, field: string): Uint8Array {
  return reader.readBytes(readLenencInt(reader, field), field);
}

export function readLenencBytesOrNull(reader: ByteReader, field: string): Uint8Array | null {
  const length = readLenencIntOrNull(reader, field);
  return length === null ? null : reader.readBytes(length, field);
}

export function readLenencString(reader: ByteReader, field: string): string {
  return reader.readString(readLenencInt(reader, field), field);
}

export function skipLenencString(reader: ByteReader, field: string): void {
  reader.skip(readLenencInt(reader, field), field);
}

/** Bytes the minimal length-encoded form of `value` takes: 1, 3, 4 or 9. */
export function lenencIntSize(value: number | bigint): number {
  const v = BigInt(value);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`lenenc integer out of range: ${value}`);
  if (v < 0xfbn) return 1;
  if (v <= 0xffffn) return 3;
  if (v <= 0xffffffn) return 4;
  return 9;
}

export function writeLenencInt(writer: ByteWriter, value: number | bigint): ByteWriter {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`lenenc integer not an integer: ${value}`);
  switch (lenencIntSize(value)) {
    case 1: return writer.writeUint8(Number(value));
    case 3: return writer.writeUint8(PREFIX_2).writeUint16LE(Number(value));
    case 4: return writer.writeUint8(PREFIX_3).writeUint24LE(Number(value));
    default: return writer.writeUint8(PREFIX_8).writeUint64LE(BigInt(value));
  }
}

export function writeLenencBytes(writer: ByteWriter, bytes: Uint8Array): ByteWriter {
  return writeLenencInt(writer, bytes.length).writeBytes(bytes);
}

export function writeLenencString(writer: ByteWriter, text: string): ByteWriter {
  return writeLenencBytes(writer, Buffer.from(text, 'utf8'));
}

/** UTF-8 text of a view, without copying the bytes first. */
export function utf8Text(view: Uint8Array): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
}

/** A copy of a view: what a decoder returns when the value outlives the packet (scrambles, auth responses). */
export function copyBytes(view: Uint8Array): Buffer {
  return Buffer.from(view);
}

/** Length of `bytes` without an incomplete UTF-8 sequence at its end (a value cut at a cap mid-character). */
export function utf8PrefixLength(bytes: Uint8Array): number {
  const end = bytes.length;
  // Walk back over at most 3 continuation bytes to the lead byte; drop it if its sequence is incomplete.
  let i = end - 1;
  while (i >= 0 && i >= end - 3 && ((bytes[i] as number) & 0xc0) === 0x80) i--;
  if (i < 0) return end;
  const lead = bytes[i] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return end - i < need ? i : end;
}

/**
 * UTF-8 text of a byte prefix that may end inside a character (a payload cut at the framer's retain cap): the
 * incomplete trailing sequence is dropped rather than shown as U+FFFD.
 */
export function decodeUtf8Prefix(bytes: Uint8Array, truncated: boolean): string {
  return utf8Text(truncated ? bytes.subarray(0, utf8PrefixLength(bytes)) : bytes);
}
