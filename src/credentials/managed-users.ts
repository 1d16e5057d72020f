// Reading a jitgate user name back: `jg_<mark>_<role>_<grant suffix>` since issue 19 (the mark says which deployment
// made it, deployment.ts), `jg_<role>_<grant suffix>` before. Both end in the grant id's 20 base32 characters
// (DESIGN §5), so the start sweep can tell whose user it is and which grant it belongs to from the name alone.
import { isGrantId, type GrantId } from '../access/ids.js';
import { MANAGED_USER_PREFIX } from './broker.js';

/** A mark starts with a digit, a role with a letter: the two shapes cannot be mistaken for each other. */
const MARKED = /^jg_([2-7][a-z2-7]{4})_([a-z0-9_]*)_([a-z2-7]{20})$/;
const LEGACY = /^jg_((?:[a-z][a-z0-9_]*)?)_([a-z2-7]{20})$/;

export interface ManagedUsername {
  readonly grantId: GrantId;
  /** The role part (cut short on MySQL): what a revocation needs when the grant itself is gone. */
  readonly role: string;
  /** The deployment's mark; undefined for a name from before marks. */
  readonly mark: string | undefined;
}

/** The parts of a name jitgate could have made, or undefined. */
export function parseManagedUsername(username: string): ManagedUsername | undefined {
  if (!username.startsWith(MANAGED_USER_PREFIX)) return undefined;
  const marked = MARKED.exec(username);
  const legacy = marked === null ? LEGACY.exec(username) : null;
  const parts = marked !== null ? { mark: marked[1], role: marked[2], suffix: marked[3] } : { mark: undefined, role: legacy?.[1], suffix: legacy?.[2] };
  if (parts.role === undefined || parts.suffix === undefined) return undefined;
  const grantId = `g_${parts.suffix}`;
  return isGrantId(grantId) ? { grantId, role: parts.role, mark: parts.mark } : undefined;
}

/** The grant a jitgate user name points at, or undefined for a name jitgate could not have made. */
export function grantIdOfUsername(username: string): GrantId | undefined {
  return parseManagedUsername(username)?.grantId;
}

/** The role part of the name: what a revocation needs when the grant itself is gone (it may be cut short on MySQL). */
export function roleOfUsername(username: string): string {
  return parseManagedUsername(username)?.role ?? '';
}
