// Errors of the builtin broker: they name the resource, the role and the statement (`creation_statements[1]`) and
// carry the server's code and message, never a password and never SQL text (a rendered creation statement holds
// the password; mysql2 errors carry the whole statement in `.sql`, so the driver error is not kept as `cause`).
import { REDACTED } from '../../audit/secret.js';

export type BuiltinOperation = 'issue' | 'renew' | 'revoke' | 'exists' | 'list';

export class BuiltinBrokerError extends Error {
  override readonly name = 'BuiltinBrokerError';

  constructor(
    readonly operation: BuiltinOperation,
    readonly resource: string,
    detail: string,
    /** The server's SQLSTATE (PG) or errno (MySQL) as text, or a socket error code such as ECONNREFUSED. */
    readonly serverCode?: string,
  ) {
    super(`builtin broker: ${operation} on resource "${resource}" ${detail}`);
  }
}

export interface DatabaseErrorDescription {
  readonly code: string | undefined;
  /** `SQLSTATE 42601: syntax error at or near "GRANTT"` or `errno 1064 (SQLSTATE 42000): You have an error …` */
  readonly text: string;
}

const field = (error: object, key: string): unknown => (key in error ? (error as Record<string, unknown>)[key] : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** What the server (or the socket) said, with every trace of `secrets` removed. */
export function describeDatabaseError(error: unknown, secrets: readonly string[] = []): DatabaseErrorDescription {
  if (error === null || typeof error !== 'object') return { code: undefined, text: scrubSecrets(String(error), secrets) };
  const errno = field(error, 'errno');
  const sqlMessage = text(field(error, 'sqlMessage'));
  if (typeof errno === 'number' && sqlMessage !== undefined) {
    // mysql2 server error: errno + SQLSTATE + the server's message. `.sql`/`.message` may hold the statement.
    const sqlState = text(field(error, 'sqlState'));
    const state = sqlState === undefined ? '' : ` (SQLSTATE ${sqlState})`;
    return { code: String(errno), text: scrubSecrets(`errno ${errno}${state}: ${sqlMessage}`, secrets) };
  }
  const code = text(field(error, 'code'));
  const message = messageOf(error);
  // pg's DatabaseError: a five-character SQLSTATE in `code`; its message is the server's own.
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code) && field(error, 'severity') !== undefined) {
    return { code, text: scrubSecrets(`SQLSTATE ${code}: ${message}`, secrets) };
  }
  return { code, text: scrubSecrets(code === undefined || message.includes(code) ? message : `${code}: ${message}`, secrets) };
}

function messageOf(error: object): string {
  const own = text(field(error, 'message'));
  if (own !== undefined) return own;
  // Node's AggregateError (one connect attempt per resolved address) has an empty message of its own.
  const inner = field(error, 'errors');
  if (Array.isArray(inner) && inner[0] !== null && typeof inner[0] === 'object') return messageOf(inner[0] as object);
  return text(field(error, 'code')) ?? 'unknown error';
}

// Servers quote the text around a syntax error ("near 'Xy7…' at line 1", cut at 80 characters), so a password
// can appear truncated: any word sharing six consecutive characters with a secret goes, not only exact copies.
const FRAGMENT_LENGTH = 6;

export function scrubSecrets(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret === '') continue;
    out = out.split(secret).join(REDACTED);
    if (secret.length < FRAGMENT_LENGTH) continue;
    out = out.replace(/[A-Za-z0-9]+/g, (word) => (sharesFragment(word, secret) ? REDACTED : word));
  }
  return out;
}

function sharesFragment(word: string, secret: string): boolean {
  if (word.length < FRAGMENT_LENGTH) return false;
  for (let start = 0; start + FRAGMENT_LENGTH <= secret.length; start++) {
    if (word.includes(secret.slice(start, start + FRAGMENT_LENGTH))) return true;
  }
  return false;
}
