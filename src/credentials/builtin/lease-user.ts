// The name and password of a builtin lease user. The name is `jg_<mark>_<role>_<grant suffix>`: the prefix marks it
// as jitgate's (the sweep touches nothing else), the mark as this deployment's (deployment.ts: the sweep of another
// deployment on the same server leaves it alone), the role is for the humans reading pg_stat_activity, and the
// grant suffix lets the crash-recovery sweep find the owning grant from the name alone.
import { randomInt } from 'node:crypto';
import { grantSuffix, type GrantId } from '../../access/ids.js';
import { Secret } from '../../audit/secret.js';
import type { ResourceConfig } from '../../config/schema.js';
import { MANAGED_USER_PREFIX } from '../broker.js';
import { MARK_LENGTH } from '../deployment.js';
import { parseManagedUsername } from '../managed-users.js';

/** PostgreSQL: NAMEDATALEN - 1 bytes; MySQL 5.7+ and MariaDB 10.x: 32 characters (names here are ASCII). */
export const USERNAME_MAX_LENGTH: Record<ResourceConfig['protocol'], number> = { postgres: 63, mysql: 32 };

const GRANT_SUFFIX_LENGTH = 20;
const ROLE_PART = /^[a-z0-9_]+$/;
const MARK = new RegExp(`^[2-7][a-z2-7]{${MARK_LENGTH - 1}}$`);

/**
 * `jg_` + the deployment's mark + `_` + role (cut to what fits: 2 characters on MySQL, where the limit is 32) + `_` +
 * the grant id's 20 base32 characters.
 */
export function leaseUsername(protocol: ResourceConfig['protocol'], role: string, grantId: GrantId, mark: string): string {
  if (!ROLE_PART.test(role)) throw new Error(`role name "${role}" cannot be part of a database user name`);
  if (!MARK.test(mark)) throw new Error(`not a deployment mark: ${mark}`);
  const suffix = grantSuffix(grantId);
  if (suffix.length !== GRANT_SUFFIX_LENGTH) throw new Error(`not a grant id: ${grantId}`);
  const roleRoom = USERNAME_MAX_LENGTH[protocol] - MANAGED_USER_PREFIX.length - MARK_LENGTH - 1 - 1 - GRANT_SUFFIX_LENGTH;
  return `${MANAGED_USER_PREFIX}${mark}_${role.slice(0, roleRoom)}_${suffix}`;
}

/** The grant suffix inside a jitgate user name (marked or from before marks), or undefined for a name jitgate did not make. */
export function grantSuffixOfUsername(username: string): string | undefined {
  return parseManagedUsername(username)?.grantId.slice(2);
}

/**
 * `true` for a name `leaseUsername` could have produced, now or before deployment marks (leases of an earlier version
 * are still revoked): the only names renew/revoke accept from a lease.
 */
export const isLeaseUsername = (username: string): boolean =>
  grantSuffixOfUsername(username) !== undefined && username.length <= USERNAME_MAX_LENGTH.postgres;

// Letters and digits only: no character a quote, comment or shell could care about (templates.ts relies on it),
// and 62^32 ≈ 2^190 guesses is far beyond any online attack.
export const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const PASSWORD_LENGTH = 32;

/** randomInt draws without modulo bias from the CSPRNG. */
export function generatePassword(): Secret {
  let password = '';
  for (let i = 0; i < PASSWORD_LENGTH; i++) password += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return new Secret(password);
}

export const builtinLeaseId = (resource: string, username: string): string => `builtin/${resource}/${username}`;
