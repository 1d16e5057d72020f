// Identifiers: `g_` + 20 lowercase base32 characters for grants (DESIGN §2), `s_` likewise for sessions.
import { randomBytes } from 'node:crypto';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type GrantId = Brand<string, 'GrantId'>;
export type SessionId = Brand<string, 'SessionId'>;
export type AuditEventId = Brand<string, 'AuditEventId'>;

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_BODY_LENGTH = 20;

/** 20 base32 characters carry 100 bits of randomness: enough that ids never collide or can be guessed. */
function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += BASE32_ALPHABET[byte & 31];
  return out;
}

const GRANT_ID_PATTERN = /^g_[a-z2-7]{20}$/;
const SESSION_ID_PATTERN = /^s_[a-z2-7]{20}$/;

export const newGrantId = (): GrantId => `g_${randomBase32(ID_BODY_LENGTH)}` as GrantId;
export const newSessionId = (): SessionId => `s_${randomBase32(ID_BODY_LENGTH)}` as SessionId;
export const newAuditEventId = (): AuditEventId => `e_${randomBase32(ID_BODY_LENGTH)}` as AuditEventId;

export const isGrantId = (text: string): text is GrantId => GRANT_ID_PATTERN.test(text);
export const isSessionId = (text: string): text is SessionId => SESSION_ID_PATTERN.test(text);

/** The random part of a grant id, used to name its database user (`jg_<role>_<suffix>`). */
export const grantSuffix = (id: GrantId): string => id.slice(2);
