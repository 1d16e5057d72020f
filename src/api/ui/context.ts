// Per-request UI state (the CSP nonce and the signed-in login), kept beside the request rather than declared onto
// every FastifyRequest, plus the helpers pages use to read it and answer with HTML.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessError } from '../../access/errors.js';
import type { UiLogin } from './login-sessions.js';
import type { PageContext } from './layout.js';

interface UiRequestState {
  readonly nonce: string;
  login: UiLogin | undefined;
}

const states = new WeakMap<FastifyRequest, UiRequestState>();

export function beginUiRequest(request: FastifyRequest): UiRequestState {
  const state: UiRequestState = { nonce: randomBytes(16).toString('base64'), login: undefined };
  states.set(request, state);
  return state;
}

export function nonceOf(request: FastifyRequest): string {
  return states.get(request)?.nonce ?? '';
}

export function loginOf(request: FastifyRequest): UiLogin | undefined {
  return states.get(request)?.login;
}

export function setLogin(request: FastifyRequest, login: UiLogin): void {
  const state = states.get(request);
  if (state) state.login = login;
}

/** The page context of a signed-in request; the auth hook has already turned anonymous ones away. */
export function pageContext(request: FastifyRequest, section?: PageContext['section']): PageContext {
  const login = loginOf(request);
  if (!login) throw new AccessError('unauthorized', 'sign in first');
  return { identity: login.identity, csrf: login.csrf, nonce: nonceOf(request), ...(section ? { section } : {}) };
}

export function sendHtml(reply: FastifyReply, markup: string, status = 200): FastifyReply {
  return reply.status(status).header('content-type', 'text/html; charset=utf-8').send(markup);
}

/** After a successful POST: back to a page, with one of the fixed notices by key (no reflected text). */
export function redirectAfterPost(reply: FastifyReply, path: string, done?: string): FastifyReply {
  const target = done === undefined ? path : `${path}${path.includes('?') ? '&' : '?'}done=${encodeURIComponent(done)}`;
  return reply.redirect(target, 303);
}

const NOTICES: Readonly<Record<string, string>> = {
  approved: 'Approval recorded.',
  denied: 'Grant denied.',
  revoked: 'Grant revoked: its sessions were told and closed, and its database user is being removed.',
  ended: 'Session ended: the client was told and disconnected.',
};

export function noticeOf(query: unknown): { kind: 'ok'; text: string } | undefined {
  if (typeof query !== 'object' || query === null || !('done' in query) || typeof query.done !== 'string') return undefined;
  const text = NOTICES[query.done];
  return text === undefined ? undefined : { kind: 'ok', text };
}

/** application/x-www-form-urlencoded → a plain object of the first value per field. */
export function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body)) if (!(key in out)) out[key] = value;
  return out;
}

/** One string field of a parsed form body, if present. */
export function formField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null || !(name in body)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}
