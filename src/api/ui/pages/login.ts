// Sign in with an API key, sign out. The key is checked once, here, and never stored or sent back: the browser gets
// an opaque login id (cookie jg_ui) mapped to the identity in memory. The form itself carries a double-submit token
// (cookie jg_ui_login + hidden field), so another site cannot sign a victim in as someone else.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../auth.js';
import { formField, nonceOf, sendHtml } from '../context.js';
import { LOGIN_COOKIE, SESSION_COOKIE, parseCookies, serializeCookie } from '../cookies.js';
import { html } from '../html.js';
import { barePage } from '../layout.js';
import { randomToken, tokensEqual, type UiLogins } from '../login-sessions.js';

export const LOGIN_PATH = '/ui/login';
const LOGIN_FORM_TTL_S = 15 * 60;

/** Only a path inside the UI: `next` must never send a fresh login off to another site. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !/^\/ui\/[A-Za-z0-9/_\-.~?=&%]*$/.test(next) || next.startsWith(LOGIN_PATH)) return '/ui/approvals';
  return next;
}

const secure = (request: FastifyRequest): boolean => request.protocol === 'https';

function loginForm(request: FastifyRequest, reply: FastifyReply, next: string, problem?: string): string {
  const token = randomToken();
  reply.header('set-cookie', serializeCookie(LOGIN_COOKIE, token, { maxAge: LOGIN_FORM_TTL_S, secure: secure(request) }));
  const body = html`<div class="login"><h1>Sign in to jitgate</h1>
${problem ? html`<p class="notice bad" role="alert">${problem}</p>` : ''}
<form method="post" action="${LOGIN_PATH}">
<input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="next" value="${next}">
<label for="api_key">API key</label>
<input id="api_key" name="api_key" type="password" autocomplete="off" required autofocus>
<button type="submit" class="primary">Sign in</button></form>
<p class="muted">The key is checked once and never stored in the browser: you get a session cookie that expires after 30 minutes idle.</p></div>`;
  return barePage('Sign in', body, nonceOf(request));
}

export function registerLoginPages(ui: FastifyInstance, deps: { readonly authenticator: Authenticator; readonly logins: UiLogins }): void {
  ui.get('/login', async (request, reply) => {
    const next = safeNext(formField(request.query, 'next'));
    return sendHtml(reply, loginForm(request, reply, next));
  });

  ui.post('/login', async (request, reply) => {
    const cookies = parseCookies(request.headers.cookie);
    const next = safeNext(formField(request.body, 'next'));
    const expected = cookies.get(LOGIN_COOKIE);
    if (expected === undefined || !tokensEqual(formField(request.body, '_csrf'), expected)) {
      return sendHtml(reply, loginForm(request, reply, next, 'The sign-in form expired or did not come from this page: try again.'), 403);
    }
    const identity = deps.authenticator.authenticate(formField(request.body, 'api_key')?.trim() ?? '');
    if (!identity) return sendHtml(reply, loginForm(request, reply, next, 'That API key is not valid.'), 401);
    deps.logins.destroy(cookies.get(SESSION_COOKIE)); // a new login never reuses an old id (session fixation)
    const { id } = deps.logins.create(identity);
    reply.header('set-cookie', [
      serializeCookie(SESSION_COOKIE, id, { maxAge: deps.logins.maxAgeSeconds, secure: secure(request) }),
      serializeCookie(LOGIN_COOKIE, '', { maxAge: 0, secure: secure(request) }),
    ]);
    return reply.redirect(next, 303);
  });

  ui.post('/logout', async (request, reply) => {
    deps.logins.destroy(parseCookies(request.headers.cookie).get(SESSION_COOKIE));
    reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', { maxAge: 0, secure: secure(request) }));
    return reply.redirect(LOGIN_PATH, 303);
  });
}
