// Test-only builders for PostgreSQL wire bytes, written from the protocol docs (§55.7 "Message Formats"). They share
// no code with protocols/ on purpose (STYLE rule 14): a golden frame built by the codec under test would agree with
// its mistakes. Every helper returns a fresh Buffer.

type Part = Uint8Array | readonly number[] | string;

/** Raw bytes from spaced hex ("52 00 00 00 08"); `|` and whitespace are ignored. */
export function hex(text: string): Buffer {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex in test: ${text}`);
  return Buffer.from(clean, 'hex');
}

/** Concatenates parts: byte arrays as is, number arrays as bytes, strings as UTF-8 without terminator. */
export function bytes(...parts: Part[]): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));
}

/** A protocol `String`: UTF-8 then one zero byte. */
export const cstr = (text: string): Buffer => bytes(text, [0]);

export const int8 = (value: number): Buffer => Buffer.from([value & 0xff]);

export function int16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out[0] = (value >> 8) & 0xff;
  out[1] = value & 0xff;
  return out;
}

export function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out[0] = (value >>> 24) & 0xff;
  out[1] = (value >>> 16) & 0xff;
  out[2] = (value >>> 8) & 0xff;
  out[3] = value & 0xff;
  return out;
}

export function int64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  let v = BigInt.asUintN(64, value);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** A typed message: one type byte, int32 length counting itself and the body, then the body. */
export function frame(type: string, ...body: Part[]): Buffer {
  const payload = bytes(...body);
  return bytes([type.charCodeAt(0)], int32(payload.length + 4), payload);
}

/** An untyped startup-phase packet: int32 length counting itself, then the body. */
export function startupFrame(...body: Part[]): Buffer {
  const payload = bytes(...body);
  return bytes(int32(payload.length + 4), payload);
}

/** A length-prefixed value as in Bind and DataRow; null is length -1 with no bytes. */
export const value = (data: Part | null): Buffer => (data === null ? int32(-1) : bytes(int32(bytes(data).length), data));

/** The body of a frame built by `frame` (everything after type and length). */
export const bodyOf = (message: Buffer): Buffer => message.subarray(5);

/** A small seeded PRNG (mulberry32) so random tests replay from a printed seed. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
