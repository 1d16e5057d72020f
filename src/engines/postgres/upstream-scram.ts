// The upstream SCRAM login's one expensive step, PBKDF2 over the lease password (4096 rounds, ~2 ms of CPU), done
// off the event loop and once per lease: the server keeps the salt and iteration count of the user's verifier, so
// every later login of the same lease user derives the same SaltedPassword. Kept in memory only, like the lease
// password it comes from, and keyed so that a new password (a new lease of the same name) never meets an old entry.
import { createHash, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
/** Leases alive at once are far fewer; the oldest entry goes first when a busy instance exceeds it. */
const MAX_ENTRIES = 1024;
const cache = new Map<string, Buffer>();

function keyOf(user: string, password: string, salt: string, iterations: number): string {
  return createHash('sha256').update(user).update('\0').update(password).update('\0').update(salt).update('\0')
    .update(String(iterations)).digest('base64');
}

/**
 * The SaltedPassword for the salt and iteration count in `serverFirst` (`r=…,s=…,i=…`); undefined when those are
 * missing or odd, in which case the codec's own checks report the malformed message.
 */
export async function saltedPasswordFor(user: string, password: string, serverFirst: string): Promise<Buffer | undefined> {
  const salt = /(?:^|,)s=([^,]+)/.exec(serverFirst)?.[1];
  const iterations = Number(/(?:^|,)i=(\d{1,8})(?:,|$)/.exec(serverFirst)?.[1]);
  if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) return undefined;
  const key = keyOf(user, password, salt, iterations);
  const known = cache.get(key);
  if (known) return known;
  const salted = await pbkdf2Async(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256');
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, salted);
  return salted;
}
