// Grant tokens and the verifiers jitgate keeps instead of them (DESIGN §2). The token is 32 random bytes shown
// once; each wire protocol gets the verifier form its own auth exchange can check without the token.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { TokenVerifiers } from './grant.js';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's own default (scram_iterations); clients expect a cost they can afford per login. */
export const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface ScramSecret {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** RFC 5802 §3 key derivation; the token is base64url (ASCII), so SASLprep leaves it unchanged. */
export async function deriveScramSecret(token: string, salt: Buffer, iterations: number): Promise<ScramSecret> {
  const saltedPassword = await pbkdf2Async(token, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  return { iterations, salt, storedKey, serverKey };
}

/** The text form PostgreSQL stores in pg_authid.rolpassword, so operators recognise it. */
export function formatScramSecret(secret: ScramSecret): string {
  return `SCRAM-SHA-256$${secret.iterations}:${secret.salt.toString('base64')}$${secret.storedKey.toString('base64')}:${secret.serverKey.toString('base64')}`;
}

const SCRAM_SECRET_PATTERN = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

export function parseScramSecret(text: string): ScramSecret | undefined {
  const match = SCRAM_SECRET_PATTERN.exec(text);
  if (!match) return undefined;
  const [, iterations, salt, storedKey, serverKey] = match;
  if (iterations === undefined || salt === undefined || storedKey === undefined || serverKey === undefined) return undefined;
  return {
    iterations: Number(iterations),
    salt: Buffer.from(salt, 'base64'),
    storedKey: Buffer.from(storedKey, 'base64'),
    serverKey: Buffer.from(serverKey, 'base64'),
  };
}

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const sha1 = (data: Buffer | string): Buffer => createHash('sha1').update(data).digest();

export async function makeTokenVerifiers(token: string, salt: Buffer = randomBytes(SCRAM_SALT_BYTES)): Promise<TokenVerifiers> {
  const scram = await deriveScramSecret(token, salt, SCRAM_ITERATIONS);
  return {
    scramSha256: formatScramSecret(scram),
    sha256Double: sha256(sha256(token)).toString('hex'),
    sha1Double: sha1(sha1(token)).toString('hex'),
  };
}

/** Checks a presented token against the stored SCRAM secret (used where the token arrives in clear, e.g. TLS cleartext auth). */
export async function tokenMatchesScram(token: string, secretText: string): Promise<boolean> {
  const secret = parseScramSecret(secretText);
  if (!secret) return false;
  const derived = await deriveScramSecret(token, secret.salt, secret.iterations);
  return timingSafeEqual(derived.storedKey, secret.storedKey) && timingSafeEqual(derived.serverKey, secret.serverKey);
}

export function sha256Hex(text: string): string {
  return sha256(text).toString('hex');
}
