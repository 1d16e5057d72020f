// (F) Authentication replies, all type 'p' (protocol docs §55.7): which one a 'p' is depends on what the server
// asked for, so each has its own decoder and the engine's auth step picks by its state. Never log these values.
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';

export interface PasswordMessage {
  readonly type: 'password';
  /** Cleartext password (after AuthenticationCleartextPassword) or "md5…" hash (after AuthenticationMD5Password). */
  readonly password: string;
}

export interface SASLInitialResponse {
  readonly type: 'sasl_initial_response';
  readonly mechanism: string;
  /** The client-first-message as a view, or null when the client sent length -1 (no initial response). */
  readonly data: Uint8Array | null;
}

export interface SASLResponse {
  readonly type: 'sasl_response';
  /** The next SASL message (client-final-message for SCRAM) as a view. */
  readonly data: Uint8Array;
}

export function decodePasswordMessage(body: Uint8Array): PasswordMessage {
  const reader = new ByteReader(body);
  const password = reader.readCString('PasswordMessage password');
  reader.expectEnd('PasswordMessage');
  return { type: 'password', password };
}

export function decodeSASLInitialResponse(body: Uint8Array): SASLInitialResponse {
  const reader = new ByteReader(body);
  const mechanism = reader.readCString('SASLInitialResponse mechanism');
  const length = reader.readInt32BE('SASLInitialResponse data length');
  let data: Uint8Array | null = null;
  if (length !== -1) {
    if (length < 0) throw new WireFormatError(`SASLInitialResponse data: negative length ${length}`);
    data = reader.readBytes(length, 'SASLInitialResponse data');
  }
  reader.expectEnd('SASLInitialResponse');
  return { type: 'sasl_initial_response', mechanism, data };
}

export function decodeSASLResponse(body: Uint8Array): SASLResponse {
  return { type: 'sasl_response', data: body };
}
