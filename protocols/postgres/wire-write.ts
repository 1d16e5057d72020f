// Framing for the few messages the proxy originates: type byte, int32 length back-filled once the body is known.
// Internal to protocols/postgres.
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';

export function startMessage(type: number, capacity = 64): ByteWriter {
  return new ByteWriter(capacity).writeUint8(type).writeInt32BE(0);
}

/** Back-fills the length (everything after the type byte) and returns a standalone copy. */
export function finishMessage(writer: ByteWriter): Buffer {
  return writer.patchInt32BE(1, writer.size - 1).toBuffer();
}

/** A NUL inside a String field would end it early and shift every later field: refuse rather than mis-frame. */
export function writeCStringChecked(writer: ByteWriter, text: string, field: string): ByteWriter {
  if (text.includes('\0')) throw new WireFormatError(`${field}: contains NUL`);
  return writer.writeCString(text);
}

/** A bodiless message (length 4) as a shared constant: the commonest replies allocate nothing. Never write into it. */
export function bodiless(type: number): Buffer {
  return Buffer.from([type, 0, 0, 0, 4]);
}
