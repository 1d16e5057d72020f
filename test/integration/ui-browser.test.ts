// The review UI in a real browser (issue 8, acceptance 1): playwright-core driving the system Chromium against an
// in-process jitgate with a Postgres resource. Sign in, approve a pending grant, watch a live pg session's statements
// arrive, read the finished timeline, export it, end a session and revoke a grant from the UI and see each client
// disconnected. A screenshot of every page goes to test/artifacts/ui/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDatabase, type ScratchDatabase } from '../support/databases.js';
import { startJitgateInstance, type JitgateInstance } from '../support/jitgate-instance.js';
import { preparePgScratchDatabase, READWRITE_ROLE_STATEMENTS } from '../support/pg-target.js';
import { apiAs } from '../support/api-client.js';
import { TEST_KEYS } from '../support/test-config.js';

const CHROMIUM = process.env.JITGATE_CHROMIUM ?? '/usr/bin/chromium';
/** The machine's facts for headless Chromium here: without the networking flags it keeps dialling Google's hosts. */
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/ui/', import.meta.url));
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.JITGATE_REQUIRE_CHROMIUM) throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs the Debian chromium package before the tests`);
  console.warn(`[ui-browser] SKIPPED: no Chromium at ${CHROMIUM} (install it with \`apt-get install -y chromium\`, or set JITGATE_CHROMIUM)`);
}

interface LiveClient {
  readonly client: pg.Client;
  /** The error the server pushed when it ended the session, if any. */
  readonly ended: Promise<Error>;
}

describe.skipIf(!haveChromium)('review UI in Chromium', () => {
  let db: ScratchDatabase;
  let instance: JitgateInstance;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let grantId = '';
  let grantToken = '';
  let sessionId = '';
  const pageErrors: string[] = [];

  const url = (path: string): string => `${instance.handle.apiUrl}${path}`;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const connect = async (id: string, token: string, program: string): Promise<LiveClient> => {
    const endpoint = instance.handle.endpointFor('postgres');
    const client = new pg.Client({ host: endpoint.host, port: endpoint.port, user: id, password: token, database: db.name, application_name: program });
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.connect();
    return { client, ended };
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createPgDatabase('review_ui');
    await preparePgScratchDatabase(db);
    instance = await startJitgateInstance([{
      name: 'ui-pg', protocol: 'postgres', adminUrl: db.url,
      roles: { readwrite: { creation: READWRITE_ROLE_STATEMENTS }, reviewed: { creation: READWRITE_ROLE_STATEMENTS } },
    }], { policies: ['{ name: ui-reviewed, resources: [ui-pg], roles: [reviewed], requesters: [dev], approval: { approvers: [dba], count: 1 }, require_reason: true, max_ttl: 1h }'] });
    userDataDir = mkdtempSync(join(tmpdir(), 'jitgate-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, acceptDownloads: true, viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
    page.on('dialog', (dialog) => { pageErrors.push(`unexpected dialog: ${dialog.message()}`); void dialog.dismiss(); });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await instance?.close();
    await db?.drop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('signs in with an API key and gets an httpOnly SameSite=Strict cookie', async () => {
    await page.goto(url('/ui/approvals'));
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await shot('01-login');
    await page.fill('#api_key', TEST_KEYS.admin);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/ui\/approvals$/);
    const cookie = (await context.cookies()).find((candidate) => candidate.name === 'jg_ui');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(cookie?.value).not.toContain(TEST_KEYS.admin);
    expect(await page.evaluate('document.cookie')).toBe(''); // nothing readable from script
  });

  it('approves a pending grant with a comment', async () => {
    const requested = await apiAs(instance.handle.apiUrl, 'dev').post('/v1/grants', { resource: 'ui-pg', role: 'reviewed', ttl: '30m', reason: 'INC-4411 <fix>' });
    expect(requested.body.state).toBe('pending');
    grantId = String(requested.body.id);
    grantToken = String(requested.body.token);
    await page.reload();
    const row = page.locator(`tr[data-grant="${grantId}"]`);
    await expect(row.textContent()).resolves.toContain('INC-4411 <fix>');
    await row.locator('input[name=comment]').fill('ok for INC-4411');
    await shot('02-approvals');
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/done=approved/);
    await expect(page.locator('.notice.ok').textContent()).resolves.toBe('Approval recorded.');
    const grant = await apiAs(instance.handle.apiUrl, 'admin').get(`/v1/grants/${grantId}`);
    expect(grant.body).toMatchObject({ state: 'approved', approvals: [{ actor: 'admin', comment: 'ok for INC-4411' }] });
  });

  it("watches a live session's statements appear as the client runs them", async () => {
    const live = await connect(grantId, grantToken, 'ui-live-psql');
    await live.client.query('create table orders (id int primary key, note text)');
    await page.goto(url('/ui/sessions'));
    const link = page.locator('#sessions tbody tr a').first();
    sessionId = (await link.textContent()) ?? '';
    expect(sessionId).toMatch(/^s_[a-z2-7]{20}$/);
    await shot('03-sessions');
    await link.click();
    // (Polled from the test, not with waitForFunction: the page's CSP rightly refuses the eval that would need.)
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/^live: new statements/);
    const rows = page.locator('#timeline-body tr');
    expect(await rows.count()).toBe(1);
    await live.client.query(`select '<script>window.__pwned = 1</script>' as "<b>x</b>"`);
    await live.client.query('insert into orders values ($1, $2)', [42, '<img src=x onerror="window.__pwned=2">']);
    await live.client.query('select pg_sleep(0.2)');
    await expect(live.client.query('select 1/0')).rejects.toThrow('division by zero');
    await expect.poll(() => rows.count()).toBe(5);
    await expect(page.locator('#timeline-body').textContent()).resolves.toContain("select '<script>window.__pwned = 1</script>'");
    await expect(page.locator('#timeline-body tr.error').count()).resolves.toBe(1);
    await page.locator('#timeline-body tr').nth(2).locator('summary').click(); // parameters fold out
    await expect(page.locator('#timeline-body tr').nth(2).locator('ol').textContent()).resolves.toContain('<img src=x');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    await expect(page.locator('#statement-count').textContent()).resolves.toBe('5');
    await shot('04-live-session');
    await live.client.end();
    // The stream's `end` event reloads the page, which then shows the session as ended.
    await page.locator('h1 .badge', { hasText: 'ended' }).waitFor();
  });

  it("opens the finished session's timeline and exports it", async () => {
    await page.goto(url(`/ui/sessions/${sessionId}`));
    await expect(page.locator('#timeline-body tr').count()).resolves.toBe(5);
    await expect(page.locator('dl.fields').textContent()).resolves.toMatch(/requester\s*dev.*reason\s*INC-4411 <fix>.*approvers\s*admin “ok for INC-4411”/s);
    await shot('05-timeline');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(download.suggestedFilename()).toBe(`${sessionId}.csv`);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^session,seq,chain_seq,started,/);
    expect(csv).toContain(',22012,division by zero,');
    expect(csv).toContain(`"select '<script>window.__pwned = 1</script>' as ""<b>x</b>"""`);
    await page.click('#errors-only');
    await expect(page.locator('#timeline-body tr').count()).resolves.toBe(1);
  });

  it('ends a live session from the UI: the client is told and disconnected', async () => {
    const other = await instance.grant('ui-pg', 'readwrite');
    const live = await connect(other.id, other.token, 'ui-end-me');
    await live.client.query('select 1');
    await instance.handle.audit.flush();
    const [record] = await instance.handle.store.listSessions({ grantId: other.id, active: true });
    await page.goto(url(`/ui/sessions/${record?.id ?? ''}`));
    await page.click('#end-session');
    await page.waitForURL(/done=ended/);
    expect((await live.ended).message).toBe(`grant ${other.id} revoked`);
    await expect(live.client.query('select 1')).rejects.toThrow();
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('ended');
    await expect(page.locator('dl.fields').textContent()).resolves.toContain('ended_by_admin: admin');
  });

  it('revokes a grant from the UI: its client is disconnected and its next query fails', async () => {
    const live = await connect(grantId, grantToken, 'ui-revoke-me');
    await live.client.query('select 1');
    await page.goto(url(`/ui/grants/${grantId}`));
    await expect(page.locator('#sessions tbody tr').count()).resolves.toBe(2);
    await shot('06-grant');
    await page.click('#revoke-grant');
    await page.waitForURL(/done=revoked/);
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('ended (revoked)');
    expect((await live.ended).message).toBe(`grant ${grantId} revoked`);
    await expect(live.client.query('select 1')).rejects.toThrow();
    await shot('07-grant-revoked');
  });

  it('shows the grants list, statement search and the audit chain status', async () => {
    await page.goto(url('/ui/grants'));
    await expect(page.locator('#grants tbody tr').count()).resolves.toBe(2);
    await shot('08-grants');
    await page.goto(url(`/ui/search?q=${encodeURIComponent('<script>')}`));
    await expect(page.locator('#results tbody tr').count()).resolves.toBe(1);
    await shot('09-search');
    await page.goto(url('/ui/audit'));
    await page.click('#verify-chain');
    await expect(page.locator('#chain-status').textContent()).resolves.toMatch(/^Chain intact: \d+ events verified\.$/);
    await shot('10-audit');
    expect(pageErrors).toEqual([]);
  });
});
