// Scramble math of the two auth plugins, for both roles. jitgate as the server keeps only verifiers (DESIGN §2):
// SHA1(SHA1(token)) and SHA256(SHA256(token)) as hex, so checks recover the hash of the password from the reply and
// the verifier rather than comparing against the token. Every check demands the reply's exact length (Vitess's
// verifiers only checked for "non-empty") and compares in constant time.
//
//   mysql_native_password   reply = SHA1(pw) XOR SHA1(scramble ‖ SHA1(SHA1(pw)))                       (20 bytes)
//   caching_sha2_password   reply = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖ scramble)               (32 bytes)
//     full auth over TLS: password ‖ NUL; without TLS: RSA-OAEP (SHA-1, MGF1-SHA-1) of (password ‖ NUL) XOR scramble
//
// An empty password is answered with an empty reply by every client; grants never have one, so an empty reply
// simply fails verification.
import { constants, createHash, publicEncrypt, timingSafeEqual } from 'node:crypto';

const SHA1_BYTES = 20;
const SHA256_BYTES = 32;

type Secret = string | Uint8Array;

const bytesOf = (secret: Secret): Buffer => (typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret));
const sha1 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i % b.length] as number);
  return out;
}

/** Parses a stored verifier: hex of the expected length, case-insensitive, with MySQL's optional leading '*'. */
function verifierBytes(hex: string, bytes: number): Buffer | null {
  const clean = hex.startsWith('*') ? hex.slice(1) : hex;
  if (clean.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(clean)) return null;
  return Buffer.from(clean, 'hex');
}

/** Client side of mysql_native_password; an empty password gives an empty reply, as clients send. */
export function nativePasswordScramble(password: Secret, scramble: Uint8Array): Buffer {
  const pw = bytesOf(password);
  if (pw.length === 0) return Buffer.alloc(0);
  const stage1 = sha1(pw);
  return xor(stage1, sha1(scramble, sha1(stage1)));
}

/** SHA1(SHA1(password)) as hex: the verifier `verifyNativePassword` checks against (MySQL stores it as '*' + HEX). */
export function nativePasswordVerifier(password: Secret): string {
  return sha1(sha1(bytesOf(password))).toString('hex');
}

/** Server side of mysql_native_password: SHA1(scramble ‖ stored) XOR reply must hash to the stored SHA1(SHA1(pw)). */
export function verifyNativePassword(reply: Uint8Array, scramble: Uint8Array, sha1DoubleHex: string): boolean {
  const stored = verifierBytes(sha1DoubleHex, SHA1_BYTES);
  if (stored === null || reply.length !== SHA1_BYTES) return false;
  const candidateStage1 = xor(reply, sha1(scramble, stored));
  return timingSafeEqual(sha1(candidateStage1), stored);
}

/** Client side of caching_sha2_password's fast path; an empty password gives an empty reply. */
export function cachingSha2Scramble(password: Secret, scramble: Uint8Array): Buffer {
  const pw = bytesOf(password);
  if (pw.length === 0) return Buffer.alloc(0);
  const stage1 = sha256(pw);
  return xor(stage1, sha256(sha256(stage1), scramble));
}

/** SHA256(SHA256(password)) as hex: the verifier the caching_sha2 checks use. */
export function cachingSha2Verifier(password: Secret): string {
  return sha256(sha256(bytesOf(password))).toString('hex');
}

/** Server side of the fast path: m = SHA256(stored ‖ scramble) XOR reply is SHA256(pw) iff SHA256(m) = stored. */
export function verifyCachingSha2Fast(reply: Uint8Array, scramble: Uint8Array, sha256DoubleHex: string): boolean {
  const stored = verifierBytes(sha256DoubleHex, SHA256_BYTES);
  if (stored === null || reply.length !== SHA256_BYTES) return false;
  const candidateStage1 = xor(reply, sha256(stored, scramble));
  return timingSafeEqual(sha256(candidateStage1), stored);
}

/** Server side of full authentication with a cleartext password (TLS only; the NUL already stripped). */
export function verifyCachingSha2Cleartext(password: Uint8Array, sha256DoubleHex: string): boolean {
  const stored = verifierBytes(sha256DoubleHex, SHA256_BYTES);
  if (stored === null || password.length === 0) return false;
  return timingSafeEqual(sha256(sha256(password)), stored);
}

/**
 * Client side of full authentication without TLS: RSA-OAEP (node's default OAEP hash and MGF1 are SHA-1, as MySQL
 * 8.0.5+ expects) of (password ‖ NUL) XOR the scramble repeated, with the public key the server sent in AuthMoreData.
 */
export function encryptPasswordWithPublicKey(password: Secret, scramble: Uint8Array, publicKeyPem: string): Buffer {
  if (scramble.length === 0) throw new RangeError('scramble must not be empty');
  const plain = Buffer.concat([bytesOf(password), Buffer.from([0])]);
  return publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, xor(plain, scramble));
}
