// The names Vault's database plugins give dynamic users with their default username_template (VAULT.md §2):
//   postgresql-database-plugin  v-<display|truncate 8>-<role|truncate 8>-<random 20>-<unix time>, cut at 63
//   mysql-database-plugin       v-<display|truncate 10>-<role|truncate 10>-<random 20>-<unix time>, cut at 32
//   mysql legacy/RDS/Aurora     v-<role|truncate 4>-<random 20>, cut at 16
// The display name is the token's (`approle`, `root`, `token-<name>`). A config with its own username_template
// makes names these patterns do not know; listManagedUsers then finds nothing, which is the safe direction.
import type { ResourceConfig } from '../../config/schema.js';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface VaultUsernamePattern {
  readonly pattern: RegExp;
  readonly maxLength: number;
}

export function vaultUsernamePatterns(protocol: ResourceConfig['protocol'], vaultRole: string): VaultUsernamePattern[] {
  if (protocol === 'postgres') {
    return [{ pattern: new RegExp(`^v-.{1,8}-${escape(vaultRole.slice(0, 8))}-[A-Za-z0-9]{20}-\\d+$`), maxLength: 63 }];
  }
  return [
    // Cut at 32, so the random part may be shortened and the timestamp gone.
    { pattern: new RegExp(`^v-.{1,10}-${escape(vaultRole.slice(0, 10))}-[A-Za-z0-9]{1,20}(?:-\\d*)?$`), maxLength: 32 },
    { pattern: new RegExp(`^v-${escape(vaultRole.slice(0, 4))}-[A-Za-z0-9]{1,11}$`), maxLength: 16 },
  ];
}

/** True when `username` is a name Vault would make for one of `vaultRoles` on a `protocol` resource. */
export function isVaultUsername(protocol: ResourceConfig['protocol'], vaultRoles: readonly string[], username: string): boolean {
  return vaultRoles.some((role) => vaultUsernamePatterns(protocol, role)
    .some(({ pattern, maxLength }) => username.length <= maxLength && pattern.test(username)));
}

/** The Vault roles a resource's jitgate roles map to. */
export const vaultRolesOf = (resource: ResourceConfig): string[] =>
  [...new Set(Object.values(resource.roles).flatMap((role) => (role.vault_role === undefined ? [] : [role.vault_role])))];
