// A small typed client for the jitgate HTTP API (docs/api.md): bearer auth, JSON in and out, every response
// checked with zod, every failure turned into an ApiError or a CliError the user can act on.
import type { z } from 'zod';
import {
  apiErrorBodySchema, auditVerifySchema, createdGrantSchema, grantListSchema, grantSchema, resourceListSchema,
  sessionDetailSchema, sessionListSchema,
  type GrantStateName,
} from './api-schemas.js';
import { CliError, EXIT_USAGE } from './errors.js';

/** A `{error: {code, message}}` answer from the server. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface CreateGrantInput {
  readonly resource: string;
  readonly role: string;
  readonly ttl?: string;
  readonly reason?: string;
}

export interface SessionQuery {
  readonly grant?: string;
  readonly resource?: string;
  readonly user?: string;
  readonly since?: string;
}

export type Fetch = typeof fetch;

const REQUEST_TIMEOUT_MS = 30_000;

/** Node's fetch reports network failures as `TypeError('fetch failed')` with the socket error as its cause. */
function networkErrorCode(error: unknown): string | undefined {
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (!(cause instanceof Error)) return undefined;
  if ('code' in cause && typeof cause.code === 'string') return cause.code;
  // localhost resolves to ::1 and 127.0.0.1; both attempts failing arrives as an AggregateError.
  if (cause instanceof AggregateError) return networkErrorCode(new Error('', { cause: cause.errors[0] }));
  return undefined;
}

const NETWORK_ERROR_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'connection timed out',
};

/** Where the API address came from: named when it cannot be reached, since a wrong JITGATE_URL is the usual cause. */
export type ApiUrlSource = '--url' | 'JITGATE_URL' | 'default';

/** What to check when nothing answers at the address (the quickstart's API address is JITGATE_API_ADDR). */
function unreachableHint(source: ApiUrlSource | undefined): string {
  switch (source) {
    case '--url':
    case 'JITGATE_URL':
      return `is jitgate running there? ${source} must name its API address (JITGATE_API_ADDR / listen.api)`;
    case 'default':
      return 'is jitgate running? If its API listens elsewhere (JITGATE_API_ADDR / listen.api), set JITGATE_URL to that address';
    case undefined:
      return 'is jitgate running there? Set JITGATE_URL (or --url) to its API address (JITGATE_API_ADDR / listen.api)';
  }
}

export class ApiClient {
  private readonly baseUrl: URL;

  constructor(
    baseUrl: string,
    private readonly apiKey: string | undefined,
    private readonly fetchImpl: Fetch = fetch,
    private readonly urlSource?: ApiUrlSource,
  ) {
    if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
      throw new CliError(`invalid jitgate URL "${baseUrl}": expected http(s)://host:port`, EXIT_USAGE);
    }
    this.baseUrl = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  }

  /** The server address as the user gave it, for messages. */
  get url(): string {
    return this.baseUrl.href.replace(/\/$/, '');
  }

  createGrant(input: CreateGrantInput) {
    return this.call('POST', 'v1/grants', createdGrantSchema, input);
  }

  async listGrants(state?: GrantStateName) {
    const query = state === undefined ? '' : `?state=${encodeURIComponent(state)}`;
    return (await this.call('GET', `v1/grants${query}`, grantListSchema)).grants;
  }

  getGrant(id: string) {
    return this.call('GET', `v1/grants/${encodeURIComponent(id)}`, grantSchema);
  }

  decideGrant(id: string, decision: 'approve' | 'deny', comment: string | undefined) {
    return this.call('POST', `v1/grants/${encodeURIComponent(id)}/${decision}`, grantSchema, comment === undefined ? {} : { comment });
  }

  revokeGrant(id: string) {
    return this.call('POST', `v1/grants/${encodeURIComponent(id)}/revoke`, grantSchema, {});
  }

  async listResources() {
    return (await this.call('GET', 'v1/resources', resourceListSchema)).resources;
  }

  async listSessions(query: SessionQuery) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (typeof value === 'string') params.set(key, value);
    const suffix = params.size > 0 ? `?${params.toString()}` : '';
    return (await this.call('GET', `v1/sessions${suffix}`, sessionListSchema)).sessions;
  }

  getSession(id: string) {
    return this.call('GET', `v1/sessions/${encodeURIComponent(id)}`, sessionDetailSchema);
  }

  verifyAudit() {
    return this.call('GET', 'v1/audit/verify', auditVerifySchema);
  }

  async call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey !== undefined && this.apiKey !== '') headers.authorization = `Bearer ${this.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw this.unreachableError(error);
    }
    const text = await response.text();
    const json = parseJson(text);
    if (!response.ok) throw this.apiError(response, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new CliError(`unexpected response from ${method} /${path}: ${where}${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  }

  /** The failure of a request that got no answer, worded with the address tried and where it came from. */
  unreachableError(error: unknown): CliError {
    const where = this.urlSource === undefined ? this.url
      : `${this.url} (${this.urlSource === 'default' ? 'the default' : `from ${this.urlSource}`})`;
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return new CliError(`cannot reach jitgate at ${where}: no answer within ${REQUEST_TIMEOUT_MS / 1000}s`);
    }
    const code = networkErrorCode(error);
    const words = code === undefined ? (error instanceof Error ? error.message : String(error)) : (NETWORK_ERROR_WORDS[code] ?? code);
    return new CliError(`cannot reach jitgate at ${where}: ${words}; ${unreachableHint(this.urlSource)}`);
  }

  private apiError(response: Response, json: unknown): ApiError {
    const body = apiErrorBodySchema.safeParse(json);
    const code = body.success ? body.data.error.code : 'http_error';
    let message = body.success ? body.data.error.message : response.statusText || `HTTP ${response.status}`;
    if (response.status === 401 && (this.apiKey === undefined || this.apiKey === '')) {
      message += '; set JITGATE_API_KEY or pass --api-key';
    }
    return new ApiError(response.status, code, message);
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
