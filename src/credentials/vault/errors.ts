// What went wrong talking to Vault, as one typed error with a code the operator can act on (VAULT.md §4). node-vault
// rejects with an internal ApiResponseError (`response.statusCode`, `response.body.errors`), an axios error for
// transport failures (`code` ECONNREFUSED, ECONNABORTED on timeout), or a tv4 ValidationError; all three are folded
// into VaultBrokerError here. Messages never carry a token, a secret_id or a lease password: every text that came
// from Vault or the socket goes through scrubSecrets first, and response bodies are never echoed.
import { scrubSecrets } from '../builtin/errors.js';

export type VaultErrorCode =
  /** 403 from an ACL: the broker's token lacks a capability on the path. */
  | 'permission_denied'
  /** 403 because the token itself is missing, expired or revoked (and could not be replaced). */
  | 'invalid_token'
  /** 400 `unknown role: x` on `<mount>/creds/x`. */
  | 'unknown_role'
  /** 500 `"x" is not an allowed role`: the role's connection config does not list it in allowed_roles. */
  | 'role_not_allowed'
  /** 400 `invalid role or secret ID` at AppRole login. */
  | 'login_failed'
  | 'sealed'
  /** 429/473 health, or a standby that does not forward. */
  | 'standby'
  | 'unreachable'
  | 'timeout'
  /** 400 `lease not found` / `invalid lease` where the caller needed the lease. */
  | 'lease_not_found'
  /** A 2xx answer without the fields the API promises. */
  | 'bad_response'
  /** The resource or role is not set up for the vault broker. */
  | 'not_configured'
  /** The check on the database itself (resource admin credentials) failed. */
  | 'database_error'
  /** Anything else Vault answered (status and its message are in the text). */
  | 'vault_error';

export type VaultOperation = 'login' | 'token' | 'issue' | 'renew' | 'revoke' | 'exists' | 'list' | 'health';

export class VaultBrokerError extends Error {
  override readonly name = 'VaultBrokerError';

  constructor(
    readonly code: VaultErrorCode,
    readonly operation: VaultOperation,
    message: string,
    /** Vault's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(`vault broker: ${operation}: ${message}`);
  }
}

const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' && key in value ? (value as Record<string, unknown>)[key] : undefined;

/** Vault's HTTP status of a node-vault rejection; undefined for transport and validation errors. */
export function vaultStatus(error: unknown): number | undefined {
  const status = field(field(error, 'response'), 'statusCode');
  return typeof status === 'number' ? status : undefined;
}

/**
 * Vault's own message: the first `errors[]` string with go-multierror's "1 error occurred:\n\t* …\n\n" wrapping
 * taken off (VAULT.md §4), or the axios/tv4 message for errors Vault did not produce.
 */
export function vaultMessage(error: unknown): string {
  const errors = field(field(field(error, 'response'), 'body'), 'errors');
  const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
  if (typeof first === 'string') return unwrapMultierror(first);
  const message = field(error, 'message');
  return typeof message === 'string' && message !== '' ? message : String(error);
}

export function unwrapMultierror(text: string): string {
  const match = /^\d+ errors? occurred:\n((?:\t\* [^\n]*\n)+)\n?$/.exec(text);
  if (match === null) return text;
  return (match[1] ?? '').split('\n').filter((line) => line !== '').map((line) => line.replace(/^\t\* /, '')).join('; ');
}

/** The transport error code (ECONNREFUSED, ENOTFOUND, ECONNABORTED, CERT_HAS_EXPIRED, …) of a request that got no answer. */
export function transportCode(error: unknown): string | undefined {
  if (vaultStatus(error) !== undefined) return undefined;
  const code = field(error, 'code');
  return typeof code === 'string' && code !== '' ? code : undefined;
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

export interface FailureContext {
  readonly operation: VaultOperation;
  readonly address: string;
  /** The Vault path asked, e.g. `database/creds/readonly` (never a lease id's secret part: lease ids are not secret). */
  readonly path: string;
  /** What was being done, for the message: `reading database credentials for role "readonly"`. */
  readonly doing: string;
  readonly role?: string;
  readonly mount?: string;
  /** Values cut out of every text: tokens, secret_id, passwords. */
  readonly secrets: readonly string[];
}

/** One clear sentence per failure class (issue 7: 403 policy, 400 unknown role, 500 not allowed, sealed, unreachable). */
export function describeVaultFailure(context: FailureContext, error: unknown): VaultBrokerError {
  if (error instanceof VaultBrokerError) return error;
  const { operation, address, path, doing } = context;
  const scrub = (text: string): string => scrubSecrets(text, context.secrets);
  const status = vaultStatus(error);
  const message = scrub(vaultMessage(error));
  const make = (code: VaultErrorCode, text: string): VaultBrokerError => new VaultBrokerError(code, operation, text, status);
  if (status === undefined) {
    const code = transportCode(error);
    if (code !== undefined && TIMEOUT_CODES.has(code)) return make('timeout', `Vault at ${address} did not answer in time while ${doing} (${code})`);
    if (code !== undefined && UNREACHABLE_CODES.has(code)) return make('unreachable', `Vault at ${address} is unreachable while ${doing} (${code})`);
    if (code !== undefined) return make('unreachable', `cannot reach Vault at ${address} while ${doing}: ${message} (${code})`);
    return make('vault_error', `${doing} failed before reaching Vault: ${message}`);
  }
  switch (status) {
    case 403:
      return make('permission_denied', `Vault denied ${doing} (403 ${message}): the broker's token needs a policy granting this on "${path}" (see README "Vault")`);
    case 400:
      if (/^unknown role/.test(message)) {
        return make('unknown_role', `Vault has no database role "${context.role ?? '?'}" under mount "${context.mount ?? '?'}" (400 ${message})`);
      }
      if (message.includes('invalid role or secret ID')) return make('login_failed', `Vault refused the AppRole login (400 ${message}): check role_id and secret_id`);
      if (/lease not found|invalid lease/.test(message)) return make('lease_not_found', `Vault does not know the lease while ${doing} (400 ${message})`);
      break;
    case 500:
      if (message.includes('is not an allowed role')) {
        return make('role_not_allowed', `Vault role "${context.role ?? '?'}" is not in allowed_roles of its database connection config (500 ${message})`);
      }
      break;
    case 503:
      return make('sealed', /sealed/i.test(message)
        ? `Vault at ${address} is sealed (503) while ${doing}`
        : `Vault at ${address} is unavailable (503 ${message}) while ${doing}`);
    case 429:
    case 472:
    case 473:
      return make('standby', `Vault at ${address} answered ${status} (standby or rate limit: ${message}) while ${doing}`);
  }
  return make('vault_error', `${doing} failed: Vault answered ${status}: ${message}`);
}
