// Helpers for the review suites (issue 8): signing in to the web UI over plain HTTP as a browser would (cookies,
// CSRF fields read from the served HTML), and recording sessions straight into a running jitgate's store and audit log.
import type { JitgateHandle } from '../../src/main.js';
import { newSessionId, type GrantId, type SessionId } from '../../src/access/ids.js';

export interface UiAgent {
  /** `jg_ui=<id>`, as the browser would send it. */
  readonly cookie: string;
  /** The login's CSRF token, read from a served form. */
  readonly csrf: string;
  get(path: string): Promise<{ status: number; text: string; headers: Headers }>;
  post(path: string, fields: Record<string, string>, options?: { csrf?: string | null }): Promise<{ status: number; text: string; headers: Headers }>;
}

const cookieFrom = (headers: Headers, name: string): string | undefined => {
  for (const line of headers.getSetCookie()) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (match) return match[1];
  }
  return undefined;
};

export const csrfFieldOf = (text: string): string | undefined => /name="_csrf" value="([^"]+)"/.exec(text)?.[1];

/** Signs in with an API key through the login form; throws unless the UI answers as designed. */
export async function signIn(baseUrl: string, apiKey: string): Promise<UiAgent> {
  const form = await fetch(`${baseUrl}/ui/login`);
  const loginCookie = cookieFrom(form.headers, 'jg_ui_login');
  const loginCsrf = csrfFieldOf(await form.text());
  if (!loginCookie || !loginCsrf) throw new Error('login form without its double-submit token');
  const response = await fetch(`${baseUrl}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `jg_ui_login=${loginCookie}` },
    body: new URLSearchParams({ api_key: apiKey, _csrf: loginCsrf, next: '/ui/sessions' }).toString(),
  });
  const id = cookieFrom(response.headers, 'jg_ui');
  if (response.status !== 303 || !id) throw new Error(`sign-in failed: ${response.status}`);
  const cookie = `jg_ui=${id}`;
  const page = await fetch(`${baseUrl}/ui/sessions`, { headers: { cookie } });
  const csrf = csrfFieldOf(await page.text());
  if (!csrf) throw new Error('signed-in page without a CSRF field');
  const request = async (method: 'GET' | 'POST', path: string, body?: string) => {
    const headers: Record<string, string> = { cookie };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const answer = await fetch(`${baseUrl}${path}`, { method, redirect: 'manual', headers, ...(body === undefined ? {} : { body }) });
    return { status: answer.status, text: await answer.text(), headers: answer.headers };
  };
  return {
    cookie,
    csrf,
    get: (path) => request('GET', path),
    post: (path, fields, options = {}) => {
      const token = options.csrf === undefined ? csrf : options.csrf;
      return request('POST', path, new URLSearchParams({ ...fields, ...(token === null ? {} : { _csrf: token }) }).toString());
    },
  };
}

export interface SeededStatement {
  readonly sql: string;
  readonly durationUs?: number;
  readonly rows?: number;
  readonly tag?: string;
  readonly params?: readonly (string | null)[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** A session row plus its statement events, recorded as the engines would (store row first, then audit events). */
export async function recordSession(handle: JitgateHandle, grantId: string, statements: readonly SeededStatement[],
  options: { id?: string; user?: string; resource?: string; startedAt?: Date; ended?: boolean } = {}): Promise<SessionId> {
  const grant = await handle.store.getGrant(grantId as GrantId);
  if (!grant) throw new Error(`no grant ${grantId}`);
  const id = (options.id as SessionId | undefined) ?? newSessionId();
  const startedAt = options.startedAt ?? new Date();
  await handle.store.insertSession({
    id, grantId: grant.id, resource: options.resource ?? grant.resource, role: grant.role, user: options.user ?? grant.requester,
    protocol: 'postgres', clientAddress: '127.0.0.1:40000', clientProgram: 'review-test', tls: false, startedAt,
    endedAt: null, endReason: null, bytesIn: 0, bytesOut: 0, statements: 0,
  });
  await Promise.all(statements.map((statement, index) => handle.audit.emit({
    type: 'statement', session: id, grant: grant.id, seq: index + 1, kind: 'query', sql: statement.sql,
    started: new Date(startedAt.getTime() + index * 10).toISOString(), duration_us: statement.durationUs ?? 100,
    ...(statement.rows === undefined ? {} : { rows: statement.rows }), ...(statement.tag === undefined ? {} : { tag: statement.tag }),
    ...(statement.params === undefined ? {} : { params: statement.params }), ...(statement.error === undefined ? {} : { error: statement.error }),
  })));
  if (options.ended !== false) {
    await handle.audit.emit({ type: 'session.ended', session: id, grant: grant.id, reason: 'client_closed', bytesIn: 10, bytesOut: 20,
      statements: statements.length, durationMs: 1_000 });
    await handle.store.updateSession(id, { endedAt: new Date(startedAt.getTime() + 1_000), endReason: 'client_closed', statements: statements.length });
  }
  await handle.audit.flush();
  return id;
}
