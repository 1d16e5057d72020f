// Redaction before chaining: whatever reaches the hash chain is permanent, so secrets are removed first.
// Member names decide (a token or password field is redacted whatever it holds); statement SQL additionally loses
// the literals of CREATE/ALTER USER … PASSWORD and friends.
import type { AuditEvent } from './events.js';
import { redactPasswordLiterals } from './password-literals.js';
import { REDACTED, Secret } from './secret.js';

export { redactPasswordLiterals } from './password-literals.js';
export { REDACTED } from './secret.js';

const SECRET_MEMBER_NAMES = new Set(['token', 'password', 'secret', 'authorization', 'api_key', 'apikey']);
// snake_case and camelCase spellings of the same idea: lease_password, leasePassword, access_token, clientSecret.
const SECRET_SUFFIXES_SNAKE = ['_password', '_token', '_secret'];
const SECRET_SUFFIXES_CAMEL = ['Password', 'Token', 'Secret'];

// Events reuse a few dozen member names, and this runs for each member of each statement event.
const verdictByName = new Map<string, boolean>();
const VERDICT_CACHE_LIMIT = 1_024;

export function isSecretMemberName(name: string): boolean {
  const known = verdictByName.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const verdict = SECRET_MEMBER_NAMES.has(lower)
    || SECRET_SUFFIXES_SNAKE.some((suffix) => lower.endsWith(suffix))
    || SECRET_SUFFIXES_CAMEL.some((suffix) => name.endsWith(suffix));
  if (verdictByName.size < VERDICT_CACHE_LIMIT) verdictByName.set(name, verdict);
  return verdict;
}

/**
 * A copy of `value` with every secret-named member (at any depth) and every `Secret` replaced by "[redacted]".
 * Copy-on-write: parts with nothing to redact are shared, and a clean value comes back as the same reference,
 * which keeps the per-statement cost to one walk.
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value) as T;
}

/** `redactSecrets` plus password literals in statement SQL. */
export function redactEvent(event: AuditEvent): AuditEvent {
  const redacted = redactSecrets(event);
  if (redacted.type !== 'statement') return redacted;
  const sql = redactPasswordLiterals(redacted.sql);
  return sql === redacted.sql ? redacted : { ...redacted, sql };
}

function redactValue(value: unknown): unknown {
  if (value instanceof Secret) return REDACTED;
  if (Array.isArray(value)) return redactArray(value);
  if (isPlainObject(value)) return redactRecord(value);
  return value;
}

function redactArray(items: readonly unknown[]): readonly unknown[] {
  let copy: unknown[] | undefined;
  items.forEach((item, index) => {
    const redacted = redactValue(item);
    if (redacted !== item) {
      copy ??= [...items];
      copy[index] = redacted;
    }
  });
  return copy ?? items;
}

function redactRecord(record: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const member = record[key];
    const redacted = member !== undefined && isSecretMemberName(key) ? REDACTED : redactValue(member);
    if (redacted !== member) {
      copy ??= { ...record };
      copy[key] = redacted;
    }
  }
  return copy ?? record;
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
