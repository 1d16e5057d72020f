// Bounds-checked reads over a byte view. Every read checks what remains first and fails with WireFormatError naming
// the field, so a short or lying message can never surface as a RangeError from deep inside Buffer.
import { WireFormatError } from './wire-format-error.js';

export class ByteReader {
  private offset: number;

  constructor(private readonly bytes: Uint8Array, start = 0, private readonly end = bytes.length) {
    this.offset = start;
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(count: number, field: string): void {
    if (count < 0 || this.offset + count > this.end) {
      throw new WireFormatError(`${field}: needs ${count} bytes, ${this.remaining} left`);
    }
  }

  readUint8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset++] as number;
  }

  readUint16BE(field: string): number {
    this.need(2, field);
    const b = this.bytes;
    const value = ((b[this.offset] as number) << 8) | (b[this.offset + 1] as number);
    this.offset += 2;
    return value;
  }

  readInt16BE(field: string): number {
    const value = this.readUint16BE(field);
    return value >= 0x8000 ? value - 0x10000 : value;
  }

  readInt32BE(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const value = ((b[this.offset] as number) << 24) | ((b[this.offset + 1] as number) << 16)
      | ((b[this.offset + 2] as number) << 8) | (b[this.offset + 3] as number);
    this.offset += 4;
    return value;
  }

  readUint32BE(field: string): number {
    return this.readInt32BE(field) >>> 0;
  }

  readUint16LE(field: string): number {
    this.need(2, field);
    const b = this.bytes;
    const value = (b[this.offset] as number) | ((b[this.offset + 1] as number) << 8);
    this.offset += 2;
    return value;
  }

  readUint24LE(field: string): number {
    this.need(3, field);
    const b = this.bytes;
    const value = (b[this.offset] as number) | ((b[this.offset + 1] as number) << 8) | ((b[this.offset + 2] as number) << 16);
    this.offset += 3;
    return value;
  }

  readUint32LE(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const value = ((b[this.offset] as number) | ((b[this.offset + 1] as number) << 8)
      | ((b[this.offset + 2] as number) << 16) | ((b[this.offset + 3] as number) << 24)) >>> 0;
    this.offset += 4;
    return value;
  }

  /** Reads a little-endian 64-bit unsigned integer as a bigint (MySQL lengths and ids). */
  readUint64LE(field: string): bigint {
    const low = BigInt(this.readUint32LE(field));
    const high = BigInt(this.readUint32LE(field));
    return (high << 32n) | low;
  }

  readInt8(field: string): number {
    const value = this.readUint8(field);
    return value >= 0x80 ? value - 0x100 : value;
  }

  readInt16LE(field: string): number {
    const value = this.readUint16LE(field);
    return value >= 0x8000 ? value - 0x10000 : value;
  }

  readInt32LE(field: string): number {
    return this.readUint32LE(field) | 0;
  }

  /** Reads a little-endian 64-bit two's-complement integer as a bigint (MySQL BIGINT values). */
  readInt64LE(field: string): bigint {
    return BigInt.asIntN(64, this.readUint64LE(field));
  }

  readFloatLE(field: string): number {
    this.need(4, field);
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4).getFloat32(0, true);
    this.offset += 4;
    return value;
  }

  readDoubleLE(field: string): number {
    this.need(8, field);
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 8).getFloat64(0, true);
    this.offset += 8;
    return value;
  }

  /** The next byte without consuming it (type-byte dispatch, MySQL's optional '#' SQLSTATE marker). */
  peekUint8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset] as number;
  }

  /** A NUL-terminated field as a view without the NUL (MySQL `string<NUL>` holding bytes, not text). */
  readCStringBytes(field: string): Uint8Array {
    const start = this.offset;
    for (let i = start; i < this.end; i++) {
      if (this.bytes[i] === 0) {
        this.offset = i + 1;
        return this.bytes.subarray(start, i);
      }
    }
    throw new WireFormatError(`${field}: missing NUL terminator`);
  }

  /** A view of the next `count` bytes (no copy): valid only while the underlying chunk is. */
  readBytes(count: number, field: string): Uint8Array {
    this.need(count, field);
    const view = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return view;
  }

  readRest(): Uint8Array {
    return this.readBytes(this.remaining, 'rest');
  }

  /** A NUL-terminated string (Postgres `String`, MySQL `string<NUL>`), decoded as UTF-8. */
  readCString(field: string): string {
    const start = this.offset;
    for (let i = start; i < this.end; i++) {
      if (this.bytes[i] === 0) {
        this.offset = i + 1;
        return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, i - start).toString('utf8');
      }
    }
    throw new WireFormatError(`${field}: missing NUL terminator`);
  }

  readString(count: number, field: string): string {
    const view = this.readBytes(count, field);
    return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
  }

  skip(count: number, field: string): void {
    this.need(count, field);
    this.offset += count;
  }

  /** Decoders end with this: trailing bytes in a message mean the peer and the codec disagree on its shape. */
  expectEnd(message: string): void {
    if (this.offset !== this.end) throw new WireFormatError(`${message}: ${this.remaining} unexpected trailing bytes`);
  }
}
