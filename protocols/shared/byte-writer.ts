// Appending writes into a growable buffer, with length back-filling for framed messages. Used for the few messages
// the proxy originates (auth, errors, minted keys); the relay path never re-encodes.
export class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
  }

  get size(): number {
    return this.length;
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  writeUint8(value: number): this {
    this.ensure(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  writeInt16BE(value: number): this {
    this.ensure(2);
    this.buffer.writeInt16BE(value, this.length);
    this.length += 2;
    return this;
  }

  writeUint16BE(value: number): this {
    this.ensure(2);
    this.buffer.writeUint16BE(value, this.length);
    this.length += 2;
    return this;
  }

  writeInt32BE(value: number): this {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  writeUint32BE(value: number): this {
    this.ensure(4);
    this.buffer.writeUint32BE(value >>> 0, this.length);
    this.length += 4;
    return this;
  }

  writeUint16LE(value: number): this {
    this.ensure(2);
    this.buffer.writeUint16LE(value, this.length);
    this.length += 2;
    return this;
  }

  writeUint24LE(value: number): this {
    this.ensure(3);
    this.buffer.writeUintLE(value, this.length, 3);
    this.length += 3;
    return this;
  }

  writeUint32LE(value: number): this {
    this.ensure(4);
    this.buffer.writeUint32LE(value >>> 0, this.length);
    this.length += 4;
    return this;
  }

  writeUint64LE(value: bigint): this {
    this.ensure(8);
    this.buffer.writeBigUint64LE(value, this.length);
    this.length += 8;
    return this;
  }

  writeBytes(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  writeString(text: string): this {
    const byteLength = Buffer.byteLength(text, 'utf8');
    this.ensure(byteLength);
    this.buffer.write(text, this.length, 'utf8');
    this.length += byteLength;
    return this;
  }

  writeCString(text: string): this {
    return this.writeString(text).writeUint8(0);
  }

  /** Overwrites a 32-bit big-endian value at `offset` (Postgres message lengths, known only at the end). */
  patchInt32BE(offset: number, value: number): this {
    this.buffer.writeInt32BE(value, offset);
    return this;
  }

  /** Overwrites a 24-bit little-endian value at `offset` (MySQL packet lengths). */
  patchUint24LE(offset: number, value: number): this {
    this.buffer.writeUintLE(value, offset, 3);
    return this;
  }

  /** A copy of what was written: the writer can be reused or dropped afterwards. */
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}
