// Who is calling the API. API keys live in config as sha256 digests (or plain keys from env, hashed at load);
// groups decide what an identity may do.
import { randomBytes } from 'node:crypto';
import type { ApiKeyConfig } from '../config/schema.js';
import { sha256Hex } from './tokens.js';

export interface Identity {
  readonly name: string;
  readonly groups: readonly string[];
  readonly via: 'api_key' | 'jwt';
}

export const isAdmin = (identity: Identity): boolean => identity.groups.includes('admin');
/** Auditors read everything and change nothing; admins are auditors too. */
export const isAuditor = (identity: Identity): boolean => isAdmin(identity) || identity.groups.includes('auditor');

export interface GeneratedKey {
  readonly name: string;
  readonly key: string;
}

export class ApiKeyDirectory {
  private readonly byDigest = new Map<string, Identity>();
  /** Keys generated at start for `generate: true` entries; main prints them once and forgets them. */
  readonly generated: readonly GeneratedKey[];

  constructor(entries: readonly ApiKeyConfig[]) {
    const generated: GeneratedKey[] = [];
    for (const entry of entries) {
      let digest = entry.key_sha256;
      if (digest === undefined && entry.key !== undefined && entry.key !== '') digest = sha256Hex(entry.key);
      if (digest === undefined && entry.generate) {
        const key = `jgk_${randomBytes(24).toString('base64url')}`;
        generated.push({ name: entry.name, key });
        digest = sha256Hex(key);
      }
      if (digest !== undefined) this.byDigest.set(digest, { name: entry.name, groups: entry.groups, via: 'api_key' });
    }
    this.generated = generated;
  }

  /** Looks a presented key up by its digest: the map holds no key material an attacker could time against. */
  authenticate(presentedKey: string): Identity | undefined {
    if (presentedKey.length === 0 || presentedKey.length > 512) return undefined;
    return this.byDigest.get(sha256Hex(presentedKey));
  }
}
