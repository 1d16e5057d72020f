// SCRAM-SHA-256 as a client (RFC 5802 / 7677), for jitgate's upstream leg: it logs in to PostgreSQL as the lease user.
// Pure: the client nonce is an argument, so tests can replay the RFC's vector.
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { WireFormatError } from '../shared/wire-format-error.js';

/** What the client sends first; `bare` is kept for the AuthMessage. */
export interface ScramClientFirst {
  readonly message: string;
  readonly bare: string;
  readonly nonce: string;
}

/** gs2 header `n,,`: no channel binding (the upstream leg verifies the server by TLS certificate when configured). */
export function scramClientFirst(clientNonce: string): ScramClientFirst {
  // PostgreSQL ignores the SCRAM username (it uses the startup user), so it is sent empty, as libpq does.
  const bare = `n=,r=${clientNonce}`;
  return { message: `n,,${bare}`, bare, nonce: clientNonce };
}

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const separator = part.indexOf('=');
    if (separator !== 1) throw new WireFormatError(`SCRAM: malformed attribute "${part.slice(0, 20)}"`);
    out.set(part.slice(0, 1), part.slice(2));
  }
  return out;
}

export interface ScramClientFinal {
  readonly message: string;
  /** The server signature the final server message must carry. */
  readonly expectedServerSignature: string;
}

/** SaltedPassword := Hi(password, salt, i) (RFC 5802 §3). A caller may pass one that remembers earlier results. */
export type DeriveSaltedPassword = (password: string, salt: Buffer, iterations: number) => Buffer;

export const deriveSaltedPassword: DeriveSaltedPassword = (password, salt, iterations) =>
  pbkdf2Sync(password, salt, iterations, 32, 'sha256');

export function scramClientFinal(first: ScramClientFirst, serverFirst: string, password: string,
  derive: DeriveSaltedPassword = deriveSaltedPassword): ScramClientFinal {
  const attrs = attributes(serverFirst);
  const nonce = attrs.get('r');
  const salt = attrs.get('s');
  const iterations = Number(attrs.get('i'));
  if (nonce === undefined || !nonce.startsWith(first.nonce) || nonce.length === first.nonce.length) {
    throw new WireFormatError('SCRAM: server nonce does not extend the client nonce');
  }
  if (salt === undefined || salt === '') throw new WireFormatError('SCRAM: server sent no salt');
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) throw new WireFormatError('SCRAM: bad iteration count');

  // PBKDF2 (4096 rounds, ~2 ms) once per login at most; `derive` may answer from a cache.
  const saltedPassword = derive(password, Buffer.from(salt, 'base64'), iterations);
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${nonce}`;
  const authMessage = `${first.bare},${serverFirst},${withoutProof}`;
  const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] as number) ^ (clientSignature[i] as number);
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  const serverSignature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
  return { message: `${withoutProof},p=${proof.toString('base64')}`, expectedServerSignature: serverSignature };
}

/** True when the server proved it knows the password too (mutual authentication). */
export function scramServerFinalValid(final: ScramClientFinal, serverFinal: string): boolean {
  const signature = attributes(serverFinal).get('v');
  if (signature === undefined) return false;
  const expected = Buffer.from(final.expectedServerSignature);
  const actual = Buffer.from(signature);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
