// Hex helpers for tests and error messages: golden bytes are easiest to read and write as spaced hex.

/** "52 00 00 00 08" or "5200000008" → bytes; whitespace and `|` separators are ignored. */
export function hexToBytes(text: string): Buffer {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`not hex: ${text.slice(0, 40)}`);
  return Buffer.from(clean, 'hex');
}

/** Bytes → "52 00 00 00 08". */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
