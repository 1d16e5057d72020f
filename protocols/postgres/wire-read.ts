// Field readers shared by the decoders of both directions: counted arrays checked against what is left before
// anything is allocated (STYLE rule 4), format codes, nullable values. Internal to protocols/postgres.
import type { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { FormatCode } from './codes.js';

/** An int16 count (read unsigned, as the server does) whose entries take at least `entryBytes` each. */
export function readCount(reader: ByteReader, field: string, entryBytes: number): number {
  const count = reader.readUint16BE(field);
  if (count * entryBytes > reader.remaining) {
    throw new WireFormatError(`${field}: ${count} entries need at least ${count * entryBytes} bytes, ${reader.remaining} left`);
  }
  return count;
}

export function readFormatCode(reader: ByteReader, field: string): FormatCode {
  const code = reader.readInt16BE(field);
  if (code !== FormatCode.Text && code !== FormatCode.Binary) throw new WireFormatError(`${field}: unsupported format code ${code}`);
  return code;
}

/** int16 count, then that many int16 format codes. */
export function readFormatCodes(reader: ByteReader, field: string): FormatCode[] {
  const count = readCount(reader, `${field} count`, 2);
  const codes = new Array<FormatCode>(count);
  for (let i = 0; i < count; i++) codes[i] = readFormatCode(reader, field);
  return codes;
}

/** int16 count, then that many values, each an int32 length (-1 for NULL) and bytes, returned as views. */
export function readValues(reader: ByteReader, field: string): (Uint8Array | null)[] {
  const count = readCount(reader, `${field} count`, 4);
  const values = new Array<Uint8Array | null>(count);
  for (let i = 0; i < count; i++) {
    const length = reader.readInt32BE(`${field} ${i + 1} length`);
    if (length === -1) values[i] = null;
    else if (length < 0) throw new WireFormatError(`${field} ${i + 1}: negative length ${length}`);
    else values[i] = reader.readBytes(length, `${field} ${i + 1}`);
  }
  return values;
}

/** Format codes apply as the protocol says: none (all text), one (for all), or exactly one per value. */
export function checkFormatCount(formats: number, values: number, message: string): void {
  if (formats > 1 && formats !== values) {
    throw new WireFormatError(`${message} has ${formats} parameter formats but ${values} parameters`);
  }
}

/** The format that applies to value `index` under the 0 / 1 / n rule. */
export function formatAt(formats: readonly FormatCode[], index: number): FormatCode {
  if (formats.length === 0) return FormatCode.Text;
  if (formats.length === 1) return formats[0] as FormatCode;
  const format = formats[index];
  if (format === undefined) throw new WireFormatError(`no format code for value ${index + 1}`);
  return format;
}
