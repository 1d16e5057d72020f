// The two cookies of the web UI, read and written by hand (no cookie plugin for two names). Both are httpOnly,
// SameSite=Strict and scoped to /ui; `Secure` is added when the request came over TLS.

export const SESSION_COOKIE = 'jg_ui';
/** The login form's double-submit token: login CSRF would sign a victim into the attacker's identity. */
export const LOGIN_COOKIE = 'jg_ui_login';

const COOKIE_NAME = /^[A-Za-z0-9_-]+$/;
const COOKIE_VALUE = /^[A-Za-z0-9_-]*$/;

/** Cookie header → name/value map; values this UI never writes (anything but base64url) are ignored. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (COOKIE_NAME.test(name) && COOKIE_VALUE.test(value) && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. Omitted: a browser-session cookie. */
  readonly maxAge?: number;
  readonly secure: boolean;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  if (!COOKIE_NAME.test(name) || !COOKIE_VALUE.test(value)) throw new Error('cookie name or value outside base64url');
  const parts = [`${name}=${value}`, 'Path=/ui', 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
