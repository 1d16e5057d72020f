// `store.url` → a Store: `sqlite:<path>` (relative to the working directory), `sqlite::memory:`, or
// `postgres://…` / `postgresql://…`. Errors name the store with the password masked: they end up in logs.
import { openPostgresStore, type PostgresStoreOptions } from './postgres.js';
import type { SqliteStoreOptions } from './sqlite-audit-client.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/** `durableCommits` concerns SQLite only: PostgreSQL commits are durable already (synchronous_commit defaults to on). */
export interface OpenStoreOptions extends PostgresStoreOptions, SqliteStoreOptions {}

export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

type StoreTarget = { readonly kind: 'sqlite'; readonly location: string } | { readonly kind: 'postgres'; readonly url: string };

const SQLITE_PREFIX = 'sqlite:';
const POSTGRES_SCHEMES = /^postgres(?:ql)?:\/\//i;
/** scheme://userinfo@ — greedy up to the last `@` of the authority, as URL parsers read it. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;

export function parseStoreUrl(url: string): StoreTarget {
  if (url.startsWith(SQLITE_PREFIX)) {
    const location = url.slice(SQLITE_PREFIX.length);
    if (location === '') throw new StoreOpenError('store url "sqlite:" names no file (use sqlite:<path> or sqlite::memory:)');
    return { kind: 'sqlite', location };
  }
  if (POSTGRES_SCHEMES.test(url)) return { kind: 'postgres', url };
  throw new StoreOpenError(`store url ${redactUrl(url)}: expected sqlite:<path>, sqlite::memory: or postgres://…`);
}

/** The URL with its password replaced by `***`, fit for messages. */
export function redactUrl(url: string): string {
  const match = USERINFO.exec(url);
  if (match === null) return url;
  const [whole, scheme = '', userinfo = ''] = match;
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${scheme}${userinfo.slice(0, colon)}:***@${url.slice(whole.length)}`;
}

/** The password as written and as decoded: either form may turn up inside a driver's message. */
function passwordForms(url: string): string[] {
  const userinfo = USERINFO.exec(url)?.[2] ?? '';
  const colon = userinfo.indexOf(':');
  if (colon < 0) return [];
  const raw = userinfo.slice(colon + 1);
  if (raw === '') return [];
  try {
    return [raw, decodeURIComponent(raw)];
  } catch {
    return [raw];
  }
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const target = parseStoreUrl(url);
  try {
    return target.kind === 'sqlite' ? await openSqliteStore(target.location, options) : await openPostgresStore(target.url, options);
  } catch (error) {
    // The cause is dropped on purpose: driver errors may carry the URL (ERR_INVALID_URL keeps its input).
    const secrets = passwordForms(url);
    const detail = error instanceof Error ? error.message : String(error);
    const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
    throw new StoreOpenError(`cannot open store ${redactUrl(url)}: ${scrub(detail, secrets)}${code}`);
  }
}
