// Web UI logins, in memory: the cookie carries a random 32-byte id, never the API key; the map is keyed by the id's
// SHA-256, so even a heap dump holds nothing a browser could present. Each login has its own CSRF token, checked on
// every state-changing form. Logins end on logout, after `idleMs` without a request, or `maxAgeMs` after login —
// and on restart (a restart forgets them all: signing in again costs one API key paste).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../../access/identity.js';

export interface UiLogin {
  readonly identity: Identity;
  /** Sent in every form as `_csrf`, compared in constant time. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface UiLoginOptions {
  readonly idleMs?: number;
  readonly maxAgeMs?: number;
  /** Oldest logins are dropped beyond this, so a login flood cannot grow memory without bound. */
  readonly maxLogins?: number;
  readonly now?: () => number;
}

export const randomToken = (): string => randomBytes(32).toString('base64url');

const digest = (id: string): string => createHash('sha256').update(id).digest('hex');

/** Constant-time equality of two tokens (length is not secret: every token here has the same length). */
export function tokensEqual(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class UiLogins {
  readonly #logins = new Map<string, UiLogin>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #maxLogins: number;
  readonly #now: () => number;

  constructor(options: UiLoginOptions = {}) {
    this.#idleMs = options.idleMs ?? 30 * 60_000;
    this.#maxAgeMs = options.maxAgeMs ?? 8 * 3_600_000;
    this.#maxLogins = options.maxLogins ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#logins.size;
  }

  /** How long the cookie may live, in seconds (the server forgets the login at the latest then). */
  get maxAgeSeconds(): number {
    return Math.floor(this.#maxAgeMs / 1000);
  }

  /** Starts a login and returns the cookie value. */
  create(identity: Identity): { id: string; login: UiLogin } {
    this.sweep();
    while (this.#logins.size >= this.#maxLogins) {
      const oldest = this.#logins.keys().next();
      if (oldest.done) break;
      this.#logins.delete(oldest.value);
    }
    const id = randomToken();
    const now = this.#now();
    const login: UiLogin = { identity, csrf: randomToken(), createdAt: now, lastSeenAt: now };
    this.#logins.set(digest(id), login);
    return { id, login };
  }

  /** The live login a cookie names, refreshing its idle timer; expired ones are forgotten on sight. */
  lookup(id: string | undefined): UiLogin | undefined {
    if (id === undefined || id.length !== 43) return undefined;
    const key = digest(id);
    const login = this.#logins.get(key);
    if (!login) return undefined;
    const now = this.#now();
    if (this.expired(login, now)) {
      this.#logins.delete(key);
      return undefined;
    }
    login.lastSeenAt = now;
    return login;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.#logins.delete(digest(id));
  }

  /** Drops every expired login; called on each new login, so no timer is needed. */
  sweep(): void {
    const now = this.#now();
    for (const [key, login] of this.#logins) if (this.expired(login, now)) this.#logins.delete(key);
  }

  private expired(login: UiLogin, now: number): boolean {
    return now - login.lastSeenAt > this.#idleMs || now - login.createdAt > this.#maxAgeMs;
  }
}
