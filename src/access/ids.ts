// Identifiers: `g_` + 20 lowercase base32 characters for grants (DESIGN §2), `s_` likewise for sessions.
import { randomFillSync } from 'node:crypto';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type GrantId = Brand<string, 'GrantId'>;
export type SessionId = Brand<string, 'SessionId'>;
export type AuditEventId = Brand<string, 'AuditEventId'>;

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_BODY_LENGTH = 20;

// One CSPRNG call per 4 KiB instead of one per id (as randomUUID does): every audited statement takes an id, and a
// small randomBytes() costs more than the rest of the id. Each byte is handed out once.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** 20 base32 characters carry 100 bits of randomness: enough that ids never collide or can be guessed. */
function randomBase32(length: number): string {
  if (poolOffset + length > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = '';
  for (let end = poolOffset + length; poolOffset < end; poolOffset++) out += BASE32_ALPHABET[(pool[poolOffset] ?? 0) & 31];
  return out;
}

const GRANT_ID_PATTERN = /^g_[a-z2-7]{20}$/;
const SESSION_ID_PATTERN = /^s_[a-z2-7]{20}$/;

export const newGrantId = (): GrantId => `g_${randomBase32(ID_BODY_LENGTH)}` as GrantId;
export const newSessionId = (): SessionId => `s_${randomBase32(ID_BODY_LENGTH)}` as SessionId;
// Audit event ids lead with the time so the unique index on them grows at its right edge: random ids would dirty
// one index page per event and multiply what each batch commit writes. 10 characters of milliseconds (50 bits, good
// past the year 30000) then 10 random ones (50 bits); ids are unique, not secret.
const TIME_CHARS = 10;
// The same 32 characters in code-unit order (digits sort before letters), so the time part sorts as a string.
const SORTABLE_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
export const newAuditEventId = (now = Date.now()): AuditEventId => `e_${base32Time(now)}${randomBase32(ID_BODY_LENGTH - TIME_CHARS)}` as AuditEventId;

let lastTimeMs = -1;
let lastTimePrefix = '';

/** Fixed-width, most significant first, so ids sort as their times do; computed once per millisecond. */
function base32Time(ms: number): string {
  if (ms === lastTimeMs) return lastTimePrefix;
  let out = '';
  for (let shift = TIME_CHARS - 1; shift >= 0; shift--) out += SORTABLE_ALPHABET[Math.floor(ms / 2 ** (5 * shift)) % 32];
  lastTimeMs = ms;
  lastTimePrefix = out;
  return out;
}

export const isGrantId = (text: string): text is GrantId => GRANT_ID_PATTERN.test(text);
export const isSessionId = (text: string): text is SessionId => SESSION_ID_PATTERN.test(text);

/** The random part of a grant id, used to name its database user (`jg_<role>_<suffix>`). */
export const grantSuffix = (id: GrantId): string => id.slice(2);
