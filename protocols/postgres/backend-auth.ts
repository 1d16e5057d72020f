// (B) Authentication* 'R' (protocol docs §55.2.2, §55.3): encoders for what the proxy asks its clients, and a
// decoder for what the upstream asks the proxy when it logs in as the lease user.
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { AuthenticationCode, BackendCode } from './codes.js';
import { finishMessage, startMessage, writeCStringChecked } from './wire-write.js';

export type Authentication =
  | { readonly type: 'authentication_ok' }
  | { readonly type: 'authentication_cleartext_password' }
  | { readonly type: 'authentication_md5_password'; readonly salt: Uint8Array }
  | { readonly type: 'authentication_sasl'; readonly mechanisms: readonly string[] }
  | { readonly type: 'authentication_sasl_continue'; readonly data: Uint8Array }
  | { readonly type: 'authentication_sasl_final'; readonly data: Uint8Array }
  /** Kerberos, GSSAPI and SSPI: understood, never supported by jitgate. */
  | { readonly type: 'authentication_unsupported'; readonly code: number };

export function decodeAuthentication(body: Uint8Array): Authentication {
  const reader = new ByteReader(body);
  const code = reader.readInt32BE('Authentication code');
  switch (code) {
    case AuthenticationCode.Ok:
      reader.expectEnd('AuthenticationOk');
      return { type: 'authentication_ok' };
    case AuthenticationCode.CleartextPassword:
      reader.expectEnd('AuthenticationCleartextPassword');
      return { type: 'authentication_cleartext_password' };
    case AuthenticationCode.MD5Password: {
      const salt = reader.readBytes(4, 'AuthenticationMD5Password salt');
      reader.expectEnd('AuthenticationMD5Password');
      return { type: 'authentication_md5_password', salt };
    }
    case AuthenticationCode.SASL: {
      const mechanisms: string[] = [];
      for (;;) {
        const name = reader.readCString('AuthenticationSASL mechanism');
        if (name === '') break;
        mechanisms.push(name);
      }
      reader.expectEnd('AuthenticationSASL');
      if (mechanisms.length === 0) throw new WireFormatError('AuthenticationSASL: no mechanisms');
      return { type: 'authentication_sasl', mechanisms };
    }
    case AuthenticationCode.SASLContinue:
      return { type: 'authentication_sasl_continue', data: reader.readRest() };
    case AuthenticationCode.SASLFinal:
      return { type: 'authentication_sasl_final', data: reader.readRest() };
    case AuthenticationCode.KerberosV5:
    case AuthenticationCode.GSS:
    case AuthenticationCode.GSSContinue:
    case AuthenticationCode.SSPI:
      return { type: 'authentication_unsupported', code };
    default:
      throw new WireFormatError(`Authentication: unknown request code ${code}`);
  }
}

const fixedAuthentication = (code: number): Buffer =>
  Buffer.from([BackendCode.Authentication, 0, 0, 0, 8, (code >>> 24) & 0xff, (code >>> 16) & 0xff, (code >>> 8) & 0xff, code & 0xff]);

/** Shared constants: never write into them. */
export const AUTHENTICATION_OK = fixedAuthentication(AuthenticationCode.Ok);
export const AUTHENTICATION_CLEARTEXT_PASSWORD = fixedAuthentication(AuthenticationCode.CleartextPassword);

export const encodeAuthenticationOk = (): Buffer => AUTHENTICATION_OK;
export const encodeAuthenticationCleartextPassword = (): Buffer => AUTHENTICATION_CLEARTEXT_PASSWORD;

export function encodeAuthenticationMD5Password(salt: Uint8Array): Buffer {
  if (salt.length !== 4) throw new RangeError(`MD5 salt must be 4 bytes, got ${salt.length}`);
  return finishMessage(startMessage(BackendCode.Authentication, 13).writeInt32BE(AuthenticationCode.MD5Password).writeBytes(salt));
}

/** The mechanisms offered, most preferred first (SCRAM-SHA-256-PLUS first when channel binding is available). */
export function encodeAuthenticationSASL(mechanisms: readonly string[]): Buffer {
  if (mechanisms.length === 0) throw new RangeError('AuthenticationSASL needs at least one mechanism');
  const writer = startMessage(BackendCode.Authentication, 48).writeInt32BE(AuthenticationCode.SASL);
  for (const mechanism of mechanisms) {
    if (mechanism === '') throw new RangeError('empty SASL mechanism name');
    writeCStringChecked(writer, mechanism, 'SASL mechanism');
  }
  return finishMessage(writer.writeUint8(0));
}

const saslData = (code: number, data: Uint8Array | string): Buffer => {
  const writer = startMessage(BackendCode.Authentication, 16 + data.length).writeInt32BE(code);
  if (typeof data === 'string') writer.writeString(data);
  else writer.writeBytes(data);
  return finishMessage(writer);
};

/** Carries the server-first-message. */
export const encodeAuthenticationSASLContinue = (data: Uint8Array | string): Buffer => saslData(AuthenticationCode.SASLContinue, data);

/** Carries the server-final-message ("v=…"); AuthenticationOk follows. */
export const encodeAuthenticationSASLFinal = (data: Uint8Array | string): Buffer => saslData(AuthenticationCode.SASLFinal, data);
