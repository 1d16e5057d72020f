// The CLI's HTTP client against a real loopback server: bearer auth, error bodies, validation, unreachable servers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '../../src/cli/api-client.js';
import { CliError } from '../../src/cli/errors.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

const seen: Seen[] = [];
let reply: (request: IncomingMessage, response: ServerResponse) => void = () => {};
let server: Server;
let baseUrl: string;

const GRANT = {
  id: 'g_abcdefghijklmnopqrst', resource: 'local-pg', role: 'readonly', requester: 'dev', reason: 'INC-1', policy: 'dev-readonly',
  state: 'pending', endReason: null, ttlSeconds: 1800, approvalsRequired: 1, approvals: [], denials: [],
  createdAt: '2025-01-31T12:00:00.000Z', approvedAt: null, activatedAt: null, expiresAt: '2025-01-31T13:00:00.000Z', endedAt: null,
  futureField: 'kept',
};

const json = (status: number, body: unknown) => (_request: IncomingMessage, response: ServerResponse): void => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body });
      reply(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('ApiClient', () => {
  it('sends the bearer key and JSON body, and keeps unknown response fields', async () => {
    reply = json(200, GRANT);
    const grant = await new ApiClient(baseUrl, 'k'.repeat(20)).decideGrant(GRANT.id, 'approve', 'ok');
    expect(seen.at(-1)).toEqual({ method: 'POST', url: `/v1/grants/${GRANT.id}/approve`, authorization: `Bearer ${'k'.repeat(20)}`, body: '{"comment":"ok"}' });
    expect(grant).toMatchObject({ id: GRANT.id, state: 'pending', futureField: 'kept' });
  });

  it('puts filters in the query string and escapes path segments', async () => {
    reply = json(200, { sessions: [] });
    await new ApiClient(`${baseUrl}/`, undefined).listSessions({ grant: 'g_x', since: '2025-01-31T00:00:00.000Z' });
    expect(seen.at(-1)?.url).toBe('/v1/sessions?grant=g_x&since=2025-01-31T00%3A00%3A00.000Z');
    expect(seen.at(-1)?.authorization).toBeUndefined();
    reply = json(200, GRANT);
    await new ApiClient(baseUrl, 'key').getGrant('../v1/../x');
    expect(seen.at(-1)?.url).toBe('/v1/grants/..%2Fv1%2F..%2Fx');
  });

  it('turns {error:{code,message}} into an ApiError', async () => {
    reply = json(409, { error: { code: 'conflict', message: 'grant g_x is already ended' } });
    const failure = new ApiClient(baseUrl, 'key').revokeGrant('g_x');
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(new ApiClient(baseUrl, 'key').revokeGrant('g_x')).rejects.toMatchObject({ status: 409, code: 'conflict', message: 'grant g_x is already ended' });
  });

  it('hints at JITGATE_API_KEY on a 401 when no key was given, and never echoes a key', async () => {
    reply = json(401, { error: { code: 'unauthorized', message: 'unknown API key' } });
    await expect(new ApiClient(baseUrl, undefined).listGrants()).rejects.toMatchObject({
      status: 401, message: 'unknown API key; set JITGATE_API_KEY or pass --api-key',
    });
    const withKey = await new ApiClient(baseUrl, 'secret-key-0123456789').listGrants().catch((error: unknown) => error);
    expect(withKey).toMatchObject({ status: 401, message: 'unknown API key' });
    expect(String((withKey as Error).message)).not.toContain('secret-key');
  });

  it('copes with error bodies that are not JSON', async () => {
    reply = (_request, response) => { response.writeHead(502, 'Bad Gateway').end('<html>'); };
    await expect(new ApiClient(baseUrl, 'key').listGrants()).rejects.toMatchObject({ status: 502, code: 'http_error', message: 'Bad Gateway' });
  });

  it('refuses a response of the wrong shape, naming the field', async () => {
    reply = json(200, { grants: [{ ...GRANT, state: 'weird' }] });
    await expect(new ApiClient(baseUrl, 'key').listGrants()).rejects.toThrow(/^unexpected response from GET \/v1\/grants: grants\.0\.state: /);
  });

  it('says plainly when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failure = new ApiClient(`http://127.0.0.1:${port}`, 'key').listGrants();
    await expect(failure).rejects.toBeInstanceOf(CliError);
    const url = `http://127.0.0.1:${port}`;
    // Names the address tried and where it came from, and points at JITGATE_URL (issue 19: the quickstart's API moved).
    await expect(new ApiClient(url, 'key').listGrants()).rejects.toThrow(`cannot reach jitgate at ${url}: connection refused; is jitgate running there? Set JITGATE_URL (or --url) to its API address (JITGATE_API_ADDR / listen.api)`);
    await expect(new ApiClient(url, 'key', fetch, 'JITGATE_URL').listGrants()).rejects.toThrow(`cannot reach jitgate at ${url} (from JITGATE_URL): connection refused; is jitgate running there? JITGATE_URL must name its API address`);
    await expect(new ApiClient(url, 'key', fetch, '--url').listGrants()).rejects.toThrow(`at ${url} (from --url): connection refused; is jitgate running there? --url must name`);
    await expect(new ApiClient(url, 'key', fetch, 'default').listGrants()).rejects.toThrow(`at ${url} (the default): connection refused; is jitgate running? If its API listens elsewhere (JITGATE_API_ADDR / listen.api), set JITGATE_URL to that address`);
  });

  it('rejects a base URL that is not http(s) as a usage error', () => {
    expect(() => new ApiClient('127.0.0.1:7480', undefined)).toThrow(expect.objectContaining({ exitCode: 2 }) as Error);
  });
});
