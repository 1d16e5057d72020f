// Vault's reply shapes (VAULT.md §0, §4): the success envelope, 204 for writes with nothing to say, and error bodies
// `{"errors":["…"]}` — plain for error responses, wrapped go-multierror style for Go errors.
import { requestId } from './names.js';

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

export type Operation = 'read' | 'list' | 'update' | 'delete';

export interface DoubleRequest {
  readonly method: string;
  readonly operation: Operation;
  /** Without `/v1/` and the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface EnvelopeFields {
  readonly data?: unknown;
  readonly leaseId?: string;
  readonly renewable?: boolean;
  readonly leaseDuration?: number;
  readonly auth?: unknown;
  readonly warnings?: readonly string[];
  readonly mountType?: string;
}

export function envelope(fields: EnvelopeFields, status = 200): Reply {
  return {
    status,
    body: {
      request_id: requestId(),
      lease_id: fields.leaseId ?? '',
      renewable: fields.renewable ?? false,
      lease_duration: fields.leaseDuration ?? 0,
      data: fields.data ?? null,
      wrap_info: null,
      warnings: fields.warnings === undefined || fields.warnings.length === 0 ? null : fields.warnings,
      auth: fields.auth ?? null,
      mount_type: fields.mountType ?? '',
    },
  };
}

export const noContent = (): Reply => ({ status: 204 });
export const accepted = (): Reply => ({ status: 202 });

/** An error response (not wrapped): unknown role, invalid lease, AppRole failures, … */
export const failure = (status: number, message: string): Reply => ({ status, body: { errors: [message] } });

/** go-multierror's format, for Go errors raised inside authenticated requests. */
export function multierror(messages: readonly string[]): string {
  const head = messages.length === 1 ? '1 error occurred:' : `${messages.length} errors occurred:`;
  return `${head}\n${messages.map((message) => `\t* ${message}`).join('\n')}\n\n`;
}

export const wrapped = (status: number, message: string): Reply => failure(status, multierror([message]));

/** A read that found nothing. */
export const emptyRead = (): Reply => ({ status: 404, body: { errors: [] } });

export const unsupportedPath = (): Reply => failure(404, 'unsupported path');
export const unsupportedOperation = (): Reply => failure(405, 'unsupported operation');
export const noHandler = (path: string): Reply => failure(404, `no handler for route "${path}". route entry not found.`);

export const listReply = (keys: readonly string[], mountType: string): Reply =>
  (keys.length === 0 ? emptyRead() : envelope({ data: { keys: [...keys].sort() }, mountType }));

/** Thrown by handlers for a reply that ends the request early. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`vault double reply ${reply.status}`);
  }
}

export const stringList = (value: unknown): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value === 'string') return value === '' ? [] : [value];
  return undefined;
};

/** `allowed_roles` and `policies` also accept a comma-separated string. */
export const commaList = (value: unknown): string[] | undefined => {
  if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  return stringList(value);
};

export const stringField = (body: Readonly<Record<string, unknown>>, key: string): string | undefined => {
  const value = body[key];
  return typeof value === 'string' ? value : undefined;
};

export const booleanField = (body: Readonly<Record<string, unknown>>, key: string): boolean | undefined => {
  const value = body[key];
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return undefined;
};
