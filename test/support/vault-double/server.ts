// The Vault double as an HTTP server (node:http) on 127.0.0.1, with Vault's `/v1/` API (router.ts) and the test hook
// under `/__double/` (hooks.ts). `pause()` stops listening and drops open connections — "Vault is down" — and
// `resume()` listens again on the same port with all state kept. The same hook operations are methods here too.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DoubleClock } from './clock.js';
import { VAULT_SCHEDULE, type ExpirySchedule } from './expiry.js';
import { handleHook, HOOK_PREFIX, leaseViews, liveUsers, type LeaseView } from './hooks.js';
import { failure, type Reply } from './http.js';
import { LeaseStore } from './leases.js';
import { initPolicies, operationOf, route, type DoubleState } from './router.js';
import { TokenStore } from './tokens.js';

export interface VaultDoubleOptions {
  /** The dev root token id (default `root`, as VAULT_DEV_ROOT_TOKEN_ID in the Docker image). */
  readonly rootToken?: string;
  /** The expiry engine's retry schedule; Vault's by default (10 s base, 6 attempts, daily). */
  readonly schedule?: Partial<ExpirySchedule>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export class VaultDouble {
  readonly rootToken: string;
  readonly state: DoubleState;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  private constructor(options: VaultDoubleOptions) {
    this.rootToken = options.rootToken ?? 'root';
    const clock = new DoubleClock();
    const mounts: DoubleState['mounts'] = new Map();
    const leases = new LeaseStore(clock, { ...VAULT_SCHEDULE, ...options.schedule }, (mount) => mounts.get(mount));
    const tokens = new TokenStore(clock, (token) => leases.expireTokenLeases(token.id));
    this.state = { clock, tokens, leases, policies: new Map(), mounts, auths: new Map(), sealed: false, standby: false };
    initPolicies(this.state);
    tokens.createRoot(this.rootToken);
    this.#server = createServer((request, response) => void this.#serve(request, response));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: VaultDoubleOptions = {}): Promise<VaultDouble> {
    const double = new VaultDouble(options);
    await double.#listen(0);
    return double;
  }

  get address(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  advance(ms: number): void {
    this.state.clock.advance(ms);
  }

  seal(): void {
    this.state.sealed = true;
  }

  unseal(): void {
    this.state.sealed = false;
  }

  leases(): LeaseView[] {
    return leaseViews(this.state);
  }

  liveUsers(): Promise<{ db: string; username: string }[]> {
    return liveUsers(this.state);
  }

  /** Expires the token with this accessor now, as its TTL would (the lease cascade follows). */
  expireToken(accessor: string): boolean {
    const token = this.state.tokens.findByAccessor(accessor);
    if (token === undefined) return false;
    this.state.tokens.expireNow(token);
    return true;
  }

  /** Expires every live token of AppRole role `role` now; returns how many. */
  expireTokensOfRole(role: string): number {
    const tokens = this.state.tokens.ofRole(role);
    for (const token of tokens) this.state.tokens.expireNow(token);
    return tokens.length;
  }

  /** "Vault is down": connections are refused until resume(). */
  async pause(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async resume(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#server.listening) await this.pause();
    this.state.clock.close();
    await Promise.allSettled([...this.state.mounts.values()].map((backend) => backend.close()));
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.#handle(request);
    } catch (error) {
      reply = failure(500, `vault double: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = reply.body === undefined || request.method === 'HEAD' ? '' : JSON.stringify(reply.body);
    response.writeHead(reply.status, text === '' && reply.body === undefined ? {} : { 'content-type': 'application/json' });
    response.end(text);
  }

  async #handle(request: IncomingMessage): Promise<Reply> {
    const url = new URL(request.url ?? '/', 'http://double');
    const body = await readBody(request);
    if (body === undefined) return failure(400, 'failed to parse JSON input: invalid character');
    const method = (request.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith(HOOK_PREFIX)) return handleHook(this.state, method, url.pathname.slice(HOOK_PREFIX.length), body);
    if (!url.pathname.startsWith('/v1/')) return failure(404, 'not found');
    const path = url.pathname.slice('/v1/'.length).replace(/\/+$/, (slashes) => (method === 'LIST' || url.searchParams.has('list') ? slashes : ''));
    const header = request.headers['x-vault-token'];
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const token = (Array.isArray(header) ? header[0] : header) ?? bearer;
    return route(this.state, { method, operation: operationOf(method, url.searchParams), path: decodeURIComponent(path), query: url.searchParams, body }, token);
  }
}

/** The JSON body as an object ({} when empty); undefined when it is not JSON. */
async function readBody(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return undefined;
  }
}
