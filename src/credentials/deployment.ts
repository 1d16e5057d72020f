// Which jitgate deployment a database user belongs to (issue 19). Two deployments (staging and production, two teams)
// may manage users on one database server; each start sweep must revoke only its own. A deployment's id is made at
// its first start and kept in its store (Store.claimDeploymentId); its first MARK_LENGTH characters, the mark, sit
// in the name of every user its builtin broker creates: `jg_<mark>_<role>_<grant suffix>` (managed-users.ts).
// The id begins with a digit: role names begin with a letter (config schema), so a marked name can never be read as a
// name from before marks (`jg_<role>_<grant suffix>`), and the reverse.
import { randomInt } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const LEADING = '234567';
const ID_LENGTH = 20;

/** Characters of the id in each user name: 6 × 32⁴ ≈ 6.3 M marks (decisions §21 weighs the odds). */
export const MARK_LENGTH = 5;

const DEPLOYMENT_ID = /^[2-7][a-z2-7]{19}$/;

export const isDeploymentId = (text: string): boolean => DEPLOYMENT_ID.test(text);

/** A fresh id: a digit 2–7, then 19 base32 characters, from the CSPRNG. */
export function newDeploymentId(): string {
  let id = LEADING[randomInt(LEADING.length)] ?? '2';
  while (id.length < ID_LENGTH) id += BASE32[randomInt(BASE32.length)];
  return id;
}

/** The part of the id every user name carries. */
export function deploymentMark(id: string): string {
  if (!isDeploymentId(id)) throw new Error(`not a deployment id: ${id}`);
  return id.slice(0, MARK_LENGTH);
}
