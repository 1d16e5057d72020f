// AuthMoreData (server → client; dev.mysql.com "Protocol::AuthMoreData"): 0x01 then plugin data, and the few one-byte
// messages caching_sha2_password exchanges inside it (dev.mysql.com "caching_sha2_password information"):
//   server → client  AuthMoreData 0x03  fast_auth_success (an OK follows)
//                    AuthMoreData 0x04  perform_full_authentication
//                    AuthMoreData PEM   the server's RSA public key (after a request)
//   client → server  0x02               request public key (sent bare, not inside AuthMoreData)
//                    password + NUL     cleartext, only over TLS
//                    256 bytes (2048-bit key) RSA-OAEP of (password + NUL) XOR scramble, without TLS
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { copyBytes } from './lenenc.js';

export const AUTH_MORE_DATA_HEADER = 0x01;

/** caching_sha2_password's one-byte markers, named as in MySQL's sql/auth/sha2_password.cc. */
export const CachingSha2Marker = {
  request_public_key: 0x02,
  fast_auth_success: 0x03,
  perform_full_authentication: 0x04,
} as const;

export interface AuthMoreData {
  readonly type: 'auth_more_data';
  /** Copied: the upstream leg keeps a public key past the packet. */
  readonly data: Buffer;
}

export function decodeAuthMoreData(payload: Uint8Array): AuthMoreData {
  const reader = new ByteReader(payload);
  const header = reader.readUint8('AuthMoreData status');
  if (header !== AUTH_MORE_DATA_HEADER) throw new WireFormatError(`AuthMoreData: header 0x${header.toString(16)}`);
  return { type: 'auth_more_data', data: copyBytes(reader.readRest()) };
}

export function encodeAuthMoreData(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + data.length);
  out[0] = AUTH_MORE_DATA_HEADER;
  out.set(data, 1);
  return out;
}

export const encodeFastAuthSuccess = (): Buffer => Buffer.from([AUTH_MORE_DATA_HEADER, CachingSha2Marker.fast_auth_success]);
export const encodePerformFullAuthentication = (): Buffer =>
  Buffer.from([AUTH_MORE_DATA_HEADER, CachingSha2Marker.perform_full_authentication]);
export const encodePublicKey = (pem: string): Buffer => encodeAuthMoreData(Buffer.from(pem, 'ascii'));

/** What a caching_sha2_password server said inside AuthMoreData (the upstream leg's view). */
export type CachingSha2ServerSignal =
  | { readonly type: 'fast_auth_success' }
  | { readonly type: 'perform_full_authentication' }
  | { readonly type: 'public_key'; readonly pem: string };

export function decodeCachingSha2ServerSignal(data: Uint8Array): CachingSha2ServerSignal {
  if (data.length === 1 && data[0] === CachingSha2Marker.fast_auth_success) return { type: 'fast_auth_success' };
  if (data.length === 1 && data[0] === CachingSha2Marker.perform_full_authentication) return { type: 'perform_full_authentication' };
  const pem = Buffer.from(data).toString('ascii');
  if (!pem.startsWith('-----BEGIN ')) throw new WireFormatError(`caching_sha2_password: unexpected AuthMoreData (${data.length} bytes)`);
  return { type: 'public_key', pem };
}

/** What a caching_sha2_password client sent after perform_full_authentication (jitgate as the server). */
export type CachingSha2ClientReply =
  | { readonly type: 'request_public_key' }
  | { readonly type: 'password_data'; readonly data: Buffer };

export function decodeCachingSha2ClientReply(payload: Uint8Array): CachingSha2ClientReply {
  if (payload.length === 1 && payload[0] === CachingSha2Marker.request_public_key) return { type: 'request_public_key' };
  return { type: 'password_data', data: copyBytes(payload) };
}

export const encodeRequestPublicKey = (): Buffer => Buffer.from([CachingSha2Marker.request_public_key]);

/** Cleartext full authentication (TLS only): the password and a NUL. */
export function encodeCleartextPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])]);
}

/** The password bytes of a cleartext reply; the terminating NUL is required (clients always send it). */
export function decodeCleartextPassword(payload: Uint8Array): Buffer {
  if (payload.length === 0 || payload[payload.length - 1] !== 0) throw new WireFormatError('cleartext password: missing NUL terminator');
  return copyBytes(payload.subarray(0, payload.length - 1));
}
