// Who may see and do what in review (issue 8, acceptance 2), through the real HTTP API and the web UI over HTTP:
// requesters see only their own sessions and cannot approve; auditors read everything and change nothing; every
// UI POST without the login's CSRF token is refused; recorded SQL is rendered as text, never as markup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJitgate, type JitgateHandle } from '../../src/main.js';
import { createLogger } from '../../src/log.js';
import { apiAs } from '../support/api-client.js';
import { TEST_KEYS, testConfig } from '../support/test-config.js';
import { recordSession, signIn, type UiAgent } from './review-support.js';

let jitgate: JitgateHandle;
let api: (who: Parameters<typeof apiAs>[1]) => ReturnType<typeof apiAs>;
let devGrant: string;
let otherGrant: string;
let pendingGrant: string;
let devSession: string;
let otherSession: string;
const XSS = `select '<script>alert("pwned")</script>' as "<img src=x onerror=alert(1)>"`;

beforeAll(async () => {
  jitgate = await startJitgate(testConfig().config, createLogger('silent'));
  api = (who) => apiAs(jitgate.apiUrl, who);
  const grant = async (who: 'dev' | 'selfish', role: string, reason = 'INC-9') => {
    const { status, body } = await api(who).post('/v1/grants', { resource: 'orders-pg', role, ttl: '30m', reason });
    expect(status).toBe(201);
    return String(body.id);
  };
  devGrant = await grant('dev', 'readonly');
  otherGrant = await grant('selfish', 'readonly');
  pendingGrant = await grant('dev', 'readwrite', 'fix order 42');
  devSession = await recordSession(jitgate, devGrant, [
    { sql: XSS, rows: 1, tag: 'SELECT 1' },
    { sql: 'select * from orders where id = $1', params: ['<b>42</b>', null], rows: 0, tag: 'SELECT 0' },
    { sql: 'select 1/0', error: { code: '22012', message: 'division by zero <i>' } },
    { sql: "select '100%_done' as literal", rows: 1, tag: 'SELECT 1' },
  ]);
  otherSession = await recordSession(jitgate, otherGrant, [{ sql: 'select secret_column from payroll', rows: 3, tag: 'SELECT 3' }]);
});

afterAll(async () => {
  // Bounded: an event stream left open (the SSE test leaves one) must not hold the server's close.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('close() waited on an open event stream')), 5_000); });
  await Promise.race([jitgate?.close(), stuck]).finally(() => clearTimeout(timer));
});

const ids = (body: Record<string, unknown>, key = 'sessions'): string[] => (body[key] as { id: string }[]).map((item) => item.id);

describe('API: a requester sees only their own sessions', () => {
  it('lists only their sessions, whatever user filter they pass', async () => {
    for (const query of ['', '?user=selfish', `?grant=${otherGrant}`]) {
      const { status, body } = await api('dev').get(`/v1/sessions${query}`);
      expect(status).toBe(200);
      expect(ids(body)).not.toContain(otherSession);
      if (query === '') expect(ids(body)).toEqual([devSession]);
    }
  });

  it("answers 404 for another user's session, its stream and its export", async () => {
    for (const path of [`/v1/sessions/${otherSession}`, `/v1/sessions/${otherSession}/events`, `/v1/sessions/${otherSession}/export?format=csv`]) {
      const { status, body } = await api('dev').get(path);
      expect(status, path).toBe(404);
      expect(body).toEqual({ error: { code: 'not_found', message: `no session ${otherSession}` } });
    }
    const own = await api('dev').get(`/v1/sessions/${devSession}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: devSession, statementCount: 4, grantDetail: { id: devGrant, requester: 'dev' } });
  });

  it('cannot search statements (auditor tool) or approve', async () => {
    expect((await api('dev').get('/v1/statements?q=select')).status).toBe(403);
    const approve = await api('dev').post(`/v1/grants/${pendingGrant}/approve`, { comment: 'me' });
    expect(approve.status).toBe(403);
    expect((await api('dev').post(`/v1/sessions/${devSession}/end`)).status).toBe(403);
  });
});

describe('API: an auditor reads everything and changes nothing', () => {
  it('lists and searches across users', async () => {
    const { body } = await api('auditor').get('/v1/sessions');
    expect(ids(body)).toEqual(expect.arrayContaining([devSession, otherSession]));
    const search = await api('auditor').get('/v1/statements?q=SECRET_column');
    expect(search.status).toBe(200);
    expect(search.body.statements).toEqual([expect.objectContaining({ session: otherSession, user: 'selfish', sql: 'select secret_column from payroll' })]);
  });

  it('matches % and _ literally in statement search', async () => {
    const literal = await api('auditor').get(`/v1/statements?q=${encodeURIComponent('100%_d')}`);
    expect((literal.body.statements as { sql: string }[]).map((hit) => hit.sql)).toEqual(["select '100%_done' as literal"]);
    const wildcard = await api('auditor').get(`/v1/statements?q=${encodeURIComponent('s%t')}`);
    expect(wildcard.body.statements).toEqual([]);
  });

  it('cannot end sessions or revoke grants (403), and an admin can only end a live session (409 here)', async () => {
    const end = await api('auditor').post(`/v1/sessions/${devSession}/end`);
    expect(end.status).toBe(403);
    expect(end.body).toEqual({ error: { code: 'forbidden', message: 'ending a session needs the admin group' } });
    expect((await api('auditor').post(`/v1/grants/${devGrant}/revoke`)).status).toBe(403);
    const adminEnd = await api('admin').post(`/v1/sessions/${devSession}/end`);
    expect(adminEnd.status).toBe(409);
    expect((await api('admin').get(`/v1/grants/${devGrant}`)).body.state).toBe('approved');
  });
});

describe('web UI: sign-in, cookies and CSRF', () => {
  let admin: UiAgent;
  beforeAll(async () => {
    admin = await signIn(jitgate.apiUrl, TEST_KEYS.admin);
  });

  it('sets an opaque httpOnly SameSite=Strict cookie, never the key, and serves pages under a strict CSP', async () => {
    const value = admin.cookie.split('=')[1] ?? '';
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain(TEST_KEYS.admin);
    const form = await fetch(`${jitgate.apiUrl}/ui/login`);
    const login = await fetch(`${jitgate.apiUrl}/ui/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: (form.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '' },
      body: new URLSearchParams({ api_key: TEST_KEYS.dev, _csrf: /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '' }).toString(),
    });
    const setCookie = login.headers.getSetCookie().find((line) => line.startsWith('jg_ui='));
    expect(setCookie).toMatch(/^jg_ui=[A-Za-z0-9_-]{43}; Path=\/ui; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const page = await admin.get('/ui/sessions');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'; .*frame-ancestors 'none'/);
    expect(page.text).not.toContain(TEST_KEYS.admin);
  });

  it('sends anonymous visitors to the login page and refuses their POSTs', async () => {
    const page = await fetch(`${jitgate.apiUrl}/ui/sessions`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/ui/login?next=%2Fui%2Fsessions');
    const post = await fetch(`${jitgate.apiUrl}/ui/grants/${pendingGrant}/approve`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'comment=x',
    });
    expect(post.status).toBe(403);
  });

  it('refuses a login POST without the form token, and a wrong key', async () => {
    const noToken = await fetch(`${jitgate.apiUrl}/ui/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ api_key: TEST_KEYS.admin }).toString(),
    });
    expect(noToken.status).toBe(403);
    expect(noToken.headers.getSetCookie().some((line) => line.startsWith('jg_ui='))).toBe(false);
    await expect(signIn(jitgate.apiUrl, 'not-a-key-000000000000000')).rejects.toThrow('sign-in failed: 401');
  });

  it('refuses CSRF-less and wrong-token POSTs with 403, then accepts the real token', async () => {
    const path = `/ui/grants/${pendingGrant}/approve`;
    expect((await admin.post(path, { comment: 'no token' }, { csrf: null })).status).toBe(403);
    expect((await admin.post(path, { comment: 'wrong token' }, { csrf: 'A'.repeat(43) })).status).toBe(403);
    expect((await api('admin').get(`/v1/grants/${pendingGrant}`)).body.state).toBe('pending');
    const ok = await admin.post(path, { comment: 'ok from the UI' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/ui/approvals?done=approved');
    expect((await api('admin').get(`/v1/grants/${pendingGrant}`)).body).toMatchObject({ state: 'approved', approvals: [{ actor: 'admin', comment: 'ok from the UI' }] });
  });

  it('ends the login on sign-out', async () => {
    const agent = await signIn(jitgate.apiUrl, TEST_KEYS.auditor);
    expect((await agent.post('/ui/logout', {})).status).toBe(303);
    expect((await agent.get('/ui/sessions')).status).toBe(303);
  });
});

describe('web UI: roles on every page and action', () => {
  it('a requester sees only their own sessions, cannot open others, cannot approve, and has no auditor pages', async () => {
    const dev = await signIn(jitgate.apiUrl, TEST_KEYS.dev);
    const list = await dev.get('/ui/sessions');
    expect(list.text).toContain(devSession);
    expect(list.text).not.toContain(otherSession);
    expect((await dev.get(`/ui/sessions/${otherSession}`)).status).toBe(404);
    expect((await dev.get(`/ui/sessions/${otherSession}/export?format=json`)).status).toBe(404);
    expect((await dev.get('/ui/search?q=secret')).status).toBe(403);
    expect((await dev.get('/ui/audit')).status).toBe(403);
    const other = await api('dev').post('/v1/grants', { resource: 'orders-pg', role: 'readwrite', ttl: '30m', reason: 'second' });
    expect((await dev.post(`/ui/grants/${String(other.body.id)}/approve`, { comment: '' })).status).toBe(403);
    expect((await dev.get('/ui/approvals')).text).not.toContain('>Approve<');
  });

  it('an auditor gets no revoke or end buttons, and the actions are refused anyway', async () => {
    const auditor = await signIn(jitgate.apiUrl, TEST_KEYS.auditor);
    const grantPage = await auditor.get(`/ui/grants/${devGrant}`);
    expect(grantPage.status).toBe(200);
    expect(grantPage.text).not.toContain('revoke-grant');
    expect((await auditor.post(`/ui/grants/${devGrant}/revoke`, {})).status).toBe(403);
    expect((await auditor.post(`/ui/sessions/${devSession}/end`, {})).status).toBe(403);
    expect((await api('admin').get(`/v1/grants/${devGrant}`)).body.state).toBe('approved');
    expect((await auditor.get('/ui/audit?verify=1')).text).toContain('Chain intact');
  });
});

describe('web UI: recorded text is escaped', () => {
  it('renders a statement holding <script> and markup as text, with only the nonce-carrying script', async () => {
    const auditor = await signIn(jitgate.apiUrl, TEST_KEYS.auditor);
    for (const path of [`/ui/sessions/${devSession}`, `/ui/search?q=${encodeURIComponent('<script>')}`]) {
      const { status, text } = await auditor.get(path);
      expect(status, path).toBe(200);
      expect(text, path).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
      expect(text, path).not.toContain('<script>alert');
      expect(text, path).not.toContain('<img src=x');
      expect(text.match(/<script/g) ?? [], path).toHaveLength(0); // a finished session has no live script
    }
    const timeline = (await auditor.get(`/ui/sessions/${devSession}`)).text;
    expect(timeline).toContain('&lt;b&gt;42&lt;/b&gt;');
    expect(timeline).toContain('division by zero &lt;i&gt;');
    expect(timeline).toMatch(/<tr id="st-\d+" class="error"/);
  });
});

describe('API: live session events', () => {
  /** Reads an SSE response's raw text until `until` matches it. */
  async function readUntil(response: Response, until: RegExp): Promise<string> {
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    let text = '';
    const decoder = new TextDecoder();
    while (!until.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    reader.releaseLock();
    return text;
  }

  it('streams new statement events of an open session, then `end` when it ends', async () => {
    const live = await recordSession(jitgate, devGrant, [{ sql: 'select 0' }], { ended: false });
    const response = await fetch(`${jitgate.apiUrl}/v1/sessions/${live}/events`, { headers: { authorization: `Bearer ${TEST_KEYS.dev}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const head = await readUntil(response, /retry: \d+\n\n/);
    expect(head).toBe('retry: 2000\n\n');
    await jitgate.audit.emit({ type: 'statement', session: live, grant: devGrant, seq: 2, kind: 'query', sql: 'select 42 -- live', started: new Date().toISOString(), duration_us: 7, tag: 'SELECT 1', rows: 1 });
    const event = await readUntil(response, /\n\n/);
    expect(event).toMatch(/^id: \d+\nevent: statement\ndata: \{.*"sql":"select 42 -- live".*\}\n\n$/);
    expect(event).not.toContain('select 0'); // from now on, unless asked for ?after=
    await jitgate.audit.emit({ type: 'session.ended', session: live, grant: devGrant, reason: 'client_closed', bytesIn: 0, bytesOut: 0, statements: 2, durationMs: 5 });
    const end = await readUntil(response, /event: end\n.*\n\n/);
    expect(end).toContain(`event: end\ndata: {"session":"${live}","reason":"client_closed"}\n\n`);
  });

  it('replays from ?after= or Last-Event-ID, and refuses an auditor nothing but a stranger everything', async () => {
    const live = await recordSession(jitgate, otherGrant, [{ sql: 'select first' }, { sql: 'select second' }], { ended: false });
    const [first] = (await jitgate.store.readSessionStatements(live, { limit: 1 }));
    const response = await fetch(`${jitgate.apiUrl}/v1/sessions/${live}/events?after=0`, {
      headers: { authorization: `Bearer ${TEST_KEYS.auditor}`, 'last-event-id': String(first?.seq ?? 0) },
    });
    const text = await readUntil(response, /select second/);
    expect(text).not.toContain('select first');
    await response.body?.cancel(); // the client goes away; the server's poller stops with it
    expect((await api('dev').get(`/v1/sessions/${live}/events`)).status).toBe(404);
    // Left open on purpose: the server's close must end it (see afterAll).
    const lingering = await fetch(`${jitgate.apiUrl}/v1/sessions/${live}/events`, { headers: { authorization: `Bearer ${TEST_KEYS.admin}` } });
    expect(lingering.status).toBe(200);
  });
});
