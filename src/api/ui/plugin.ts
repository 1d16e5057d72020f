// The review web UI at /ui (docs/decisions.md: server-rendered by fastify, no build step). One encapsulated plugin:
// form bodies, security headers with a per-response CSP nonce, the login cookie → identity hook, a CSRF check on
// every POST, and HTML error pages. Pages enforce roles themselves, through GrantService and SessionReview — the same
// checks as the API.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AccessError } from '../../access/errors.js';
import type { GrantService } from '../../access/grant-service.js';
import type { Store } from '../../store/store.js';
import type { Authenticator } from '../auth.js';
import type { SessionReview } from '../routes/session-review.js';
import type { SessionStreams } from '../routes/session-stream.js';
import { beginUiRequest, formField, loginOf, nonceOf, parseForm, sendHtml, setLogin } from './context.js';
import { SESSION_COOKIE, parseCookies } from './cookies.js';
import { html } from './html.js';
import { barePage, page, type PageContext } from './layout.js';
import { tokensEqual, UiLogins } from './login-sessions.js';
import { registerApprovalPages } from './pages/approvals.js';
import { registerAuditPages } from './pages/audit.js';
import { registerGrantPages } from './pages/grants.js';
import { LOGIN_PATH, registerLoginPages } from './pages/login.js';
import { registerSessionPage } from './pages/session.js';
import { registerSessionListPage } from './pages/sessions.js';

export interface UiDeps {
  readonly store: Store;
  readonly grants: GrantService;
  readonly authenticator: Authenticator;
  readonly review: SessionReview;
  readonly streams: SessionStreams;
  readonly flushAudit: () => Promise<void>;
  readonly logger: Logger;
  readonly logins?: UiLogins;
}

const STATUS: Readonly<Record<AccessError['code'], number>> = {
  bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409, unavailable: 503,
};

function securityHeaders(reply: FastifyReply, nonce: string): void {
  reply
    .header('content-security-policy', [
      "default-src 'none'", `script-src 'nonce-${nonce}'`, "style-src 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'",
      "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
    ].join('; '))
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store');
}

function errorPage(request: FastifyRequest, status: number, message: string): string {
  const login = loginOf(request);
  const body = html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong'}</h1>
<p class="notice bad">${message}</p><p><a href="/ui/sessions">Back to sessions</a></p>`;
  if (!login) return barePage('Error', html`${body}<p><a href="${LOGIN_PATH}">Sign in</a></p>`, nonceOf(request));
  const ctx: PageContext = { identity: login.identity, csrf: login.csrf, nonce: nonceOf(request) };
  return page(ctx, 'Error', body);
}

export function registerUi(app: FastifyInstance, deps: UiDeps): void {
  const logins = deps.logins ?? new UiLogins();
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/approvals', 303));

  void app.register(async (ui) => {
    ui.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 32 * 1024 }, (_request, body, done) => {
      done(null, parseForm(typeof body === 'string' ? body : body.toString('utf8')));
    });

    ui.addHook('onRequest', async (request, reply) => {
      const state = beginUiRequest(request);
      securityHeaders(reply, state.nonce);
      const path = request.url.split('?')[0] ?? '';
      if (path === LOGIN_PATH) return;
      const login = logins.lookup(parseCookies(request.headers.cookie).get(SESSION_COOKIE));
      if (login) return setLogin(request, login);
      if (request.method === 'GET') return reply.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(request.url)}`, 303);
      return sendHtml(reply, errorPage(request, 403, 'not signed in (or the sign-in expired): sign in again'), 403);
    });

    // Every state-changing request carries the login's CSRF token; the login form has its own double-submit token.
    ui.addHook('preHandler', async (request, reply) => {
      if (request.method !== 'POST') return;
      const login = loginOf(request);
      if (!login) return; // only the login form gets here without one; it checks its own token
      if (!tokensEqual(formField(request.body, '_csrf'), login.csrf)) {
        return sendHtml(reply, errorPage(request, 403, 'the form is missing its CSRF token or it is stale: reload the page and try again'), 403);
      }
    });

    ui.setErrorHandler((error: FastifyError | Error, request, reply) => {
      if (error instanceof AccessError) return sendHtml(reply, errorPage(request, STATUS[error.code], error.message), STATUS[error.code]);
      const status = (error as Partial<FastifyError>).statusCode;
      if (status !== undefined && status >= 400 && status < 500) return sendHtml(reply, errorPage(request, status, error.message), status);
      deps.logger.error({ err: error, route: request.routeOptions.url, method: request.method }, 'UI request failed');
      return sendHtml(reply, errorPage(request, 500, 'internal error; see the jitgate log'), 500);
    });
    ui.setNotFoundHandler((request, reply) => sendHtml(reply, errorPage(request, 404, `no page ${request.url.split('?')[0] ?? ''}`), 404));

    registerLoginPages(ui, { authenticator: deps.authenticator, logins });
    registerApprovalPages(ui, deps.grants);
    registerGrantPages(ui, deps);
    registerSessionListPage(ui, deps.review);
    registerSessionPage(ui, deps);
    registerAuditPages(ui, deps);
  }, { prefix: '/ui' });
}
