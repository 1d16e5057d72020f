// Reading a jitgate user name back into its grant: `jg_<role>_<grant suffix>` ends in the grant id's 20 base32
// characters (DESIGN §5), so the start sweep can tell which grant a user on a server belongs to from its name alone.
import { isGrantId, type GrantId } from '../access/ids.js';
import { MANAGED_USER_PREFIX } from './broker.js';

const GRANT_SUFFIX_LENGTH = 20;

/** The grant a jitgate user name points at, or undefined for a name jitgate could not have made. */
export function grantIdOfUsername(username: string): GrantId | undefined {
  if (!username.startsWith(MANAGED_USER_PREFIX)) return undefined;
  if (username.length < MANAGED_USER_PREFIX.length + 1 + GRANT_SUFFIX_LENGTH) return undefined;
  if (username.at(-GRANT_SUFFIX_LENGTH - 1) !== '_') return undefined;
  const candidate = `g_${username.slice(-GRANT_SUFFIX_LENGTH)}`;
  return isGrantId(candidate) ? candidate : undefined;
}

/** The role part of the name: what a revocation needs when the grant itself is gone (it may be cut short on MySQL). */
export function roleOfUsername(username: string): string {
  return username.slice(MANAGED_USER_PREFIX.length, -GRANT_SUFFIX_LENGTH - 1);
}
