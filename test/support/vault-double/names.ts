// Identifiers, secrets and durations exactly as Vault makes and reads them (VAULT.md §1–§3).
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function base62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

export const requestId = (): string => randomUUID();
export const newTokenId = (): string => `hvs.${base62(24)}`;
export const newAccessor = (): string => base62(24);
export const newLeaseSuffix = (): string => base62(24);

/** Vault's default password generator: 20 of [A-Za-z0-9-], at least one lower, upper, digit and `-`. */
export function newDbPassword(): string {
  const alphabet = `${BASE62}-`;
  for (;;) {
    let password = '';
    for (let i = 0; i < 20; i++) password += alphabet[randomInt(alphabet.length)];
    if (/[a-z]/.test(password) && /[A-Z]/.test(password) && /[0-9]/.test(password) && password.includes('-')) return password;
  }
}

export const truncate = (text: string, length: number): string => text.slice(0, length);

/** The default username templates (VAULT.md §2); `now` is Unix ms. */
export function dbUsername(plugin: string, displayName: string, role: string, now: number): string {
  const unix = Math.floor(now / 1000);
  if (plugin === 'postgresql-database-plugin') {
    return truncate(`v-${truncate(displayName, 8)}-${truncate(role, 8)}-${base62(20)}-${unix}`, 63);
  }
  if (plugin === 'mysql-database-plugin') {
    return truncate(`v-${truncate(displayName, 10)}-${truncate(role, 10)}-${base62(20)}-${unix}`, 32);
  }
  return truncate(`v-${truncate(role, 4)}-${base62(20)}`, 16);
}

/** `{{expiration}}`: Go layout `2006-01-02 15:04:05-0700`, UTC. */
export function formatExpiration(ms: number): string {
  const date = new Date(ms);
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} `
    + `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}+0000`;
}

const GO_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/**
 * A TTL parameter as Vault's framework reads it: an integer (seconds), a numeric string, or a Go duration
 * ("1h", "1h30m", "90s"). undefined when absent; NaN when unreadable.
 */
export function parseTtl(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : Number.NaN;
  if (typeof value !== 'string') return Number.NaN;
  if (/^\d+$/.test(value)) return Number(value);
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) return Number.NaN;
  return Math.floor(parts.reduce((sum, part) => sum + Number(part[1]) * (GO_UNITS[part[2] ?? 's'] ?? 1), 0));
}

/** Go's time.Duration String() for whole seconds: 3600 → "1h0m0s", 552 → "9m12s", 5 → "5s". */
export function goDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total === 0) return '0s';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

export const newEntityId = (): string => randomUUID();
export const newRoleId = (): string => randomUUID();
export const newSecretId = (): string => randomUUID();
export const newSecretAccessor = (): string => randomBytes(16).toString('hex');
