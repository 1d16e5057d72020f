// One session: its grant (requester, reason, approvers, window), the client, and the statement timeline a page at a
// time (first/previous/next/last, errors only). A live session opens on its newest page and follows new statements
// over server-sent events; admins can end it. Exports stream the whole session as JSON or CSV.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isAdmin } from '../../../access/identity.js';
import type { Grant } from '../../../access/grant.js';
import type { SessionRecord } from '../../../store/store.js';
import { parse } from '../../parse.js';
import { sendExport } from '../../routes/session-export.js';
import type { SessionRow, StatementPage } from '../../routes/session-review.js';
import { resumeSeq } from '../../routes/session-stream.js';
import { statementView } from '../../routes/statement-view.js';
import { noticeOf, pageContext, redirectAfterPost, sendHtml } from '../context.js';
import { html, uiPath } from '../html.js';
import { csrfField, formatTime, page, type PageContext } from '../layout.js';
import type { UiDeps } from '../plugin.js';
import { liveScript, TIMELINE_HEAD, timelineRow } from '../timeline.js';
import { stateBadge } from './grants.js';
import { sessionDuration } from './sessions.js';

const PAGE_SIZE = 200;
const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const timelineQuery = z.object({
  after: seq.optional(), before: seq.optional(), last: z.literal('1').optional(), errors: z.literal('1').optional(),
  done: z.string().optional(),
});
const idParams = z.object({ id: z.string().max(64) });
const eventsQuery = z.object({ after: seq.optional() });
const exportQuery = z.object({ format: z.enum(['json', 'csv']).default('csv') });

function grantFields(grant: Grant | undefined, session: SessionRecord) {
  if (!grant) return html`<dt>grant</dt><dd class="mono">${session.grantId} <span class="muted">(not in the store)</span></dd>`;
  const approvers = grant.approvalsRequired === 0
    ? html`auto (policy <code>${grant.policy}</code>)`
    : grant.decisions.filter((decision) => decision.decision === 'approve').map((decision, index) =>
      html`${index > 0 ? ', ' : ''}<strong>${decision.actor}</strong>${decision.comment ? html` “${decision.comment}”` : ''}`);
  return html`<dt>grant</dt><dd><a class="mono" href="${uiPath(['grants', grant.id])}">${grant.id}</a> ${stateBadge(grant)}</dd>
<dt>requester</dt><dd>${grant.requester}</dd><dt>reason</dt><dd>${grant.reason || html`<span class="muted">(none)</span>`}</dd>
<dt>approvers</dt><dd>${approvers}</dd>
<dt>window</dt><dd>${formatTime(grant.approvedAt ?? grant.createdAt)} → ${formatTime(grant.endedAt ?? grant.expiresAt)}</dd>`;
}

function pager(session: SessionRecord, result: StatementPage, errors: boolean) {
  const base = { errors: errors ? '1' : undefined };
  const link = (label: string, query: Record<string, string | number | undefined>, id: string) =>
    html`<a id="${id}" href="${uiPath(['sessions', session.id], { ...base, ...query })}">${label}</a>`;
  return html`<div class="pager">${link('« first', {}, 'page-first')}
${result.prev !== null ? link('‹ previous', { before: result.prev }, 'page-prev') : ''}
${result.next !== null ? link('next ›', { after: result.next }, 'page-next') : ''}${link('last »', { last: '1' }, 'page-last')}</div>`;
}

function renderSession(ctx: PageContext, row: SessionRow, session: SessionRecord, grant: Grant | undefined, count: number,
  result: StatementPage, options: { errors: boolean; live: boolean }) {
  const dialect = session.protocol;
  const end = row.live && isAdmin(ctx.identity)
    ? html`<form method="post" action="${uiPath(['sessions', session.id, 'end'])}" class="inline">${csrfField(ctx)}
<button type="submit" class="danger" id="end-session">End session</button></form>` : '';
  const errorsToggle = options.errors
    ? html`<a href="${uiPath(['sessions', session.id])}">all statements</a>`
    : html`<a href="${uiPath(['sessions', session.id], { errors: '1' })}" id="errors-only">errors only</a>`;
  const status = row.live ? html`<span class="badge live">live</span>` : session.endedAt === null ? html`<span class="badge">open</span>` : html`<span class="badge">ended</span>`;
  return html`<h1>Session <span class="mono">${session.id}</span> ${status}</h1>
<div class="actions">${end}<a href="${uiPath(['sessions', session.id, 'export'], { format: 'csv' })}" id="export-csv" download>export CSV</a>
<a href="${uiPath(['sessions', session.id, 'export'], { format: 'json' })}" id="export-json" download>export JSON</a>${errorsToggle}</div>
<dl class="fields">${grantFields(grant, session)}<dt>resource / role</dt><dd>${session.resource} / ${session.role} (${session.protocol})</dd>
<dt>client</dt><dd>${session.clientAddress}${session.clientProgram ? html` <span class="muted">(${session.clientProgram})</span>` : ''}${session.tls ? ' · TLS' : ' · no TLS'}</dd>
<dt>started</dt><dd>${formatTime(session.startedAt)} · ${sessionDuration(row)}</dd>
<dt>ended</dt><dd>${session.endedAt ? html`${formatTime(session.endedAt)}: ${session.endReason ?? ''}` : html`<span class="muted">still open</span>`}</dd>
<dt>statements</dt><dd><span id="statement-count">${count}</span> · ${row.bytesIn} bytes in, ${row.bytesOut} bytes out</dd></dl>
${options.live ? html`<p class="notice" id="live-status" role="status">live: connecting…</p>` : ''}
${pager(session, result, options.errors)}
<table id="timeline">${TIMELINE_HEAD}<tbody id="timeline-body">${result.statements.map((statement) => timelineRow(statement, session.startedAt, dialect))}</tbody></table>
${result.statements.length === 0 ? html`<p class="muted" id="no-statements">No statements${options.errors ? ' failed' : ' on this page'}.</p>` : ''}
${pager(session, result, options.errors)}`;
}

export function registerSessionPage(ui: FastifyInstance, deps: UiDeps): void {
  const { review, store } = deps;

  ui.get('/sessions/:id', async (request, reply) => {
    const ctx = pageContext(request, 'sessions');
    const { id } = parse(idParams, request.params, 'path');
    const query = parse(timelineQuery, request.query, 'query');
    const session = await review.visible(ctx.identity, id);
    const row = await review.row(session);
    const errors = query.errors === '1';
    // A live session opens where things happen: its newest page, which then grows as statements arrive.
    const last = query.last === '1' || (row.live && query.after === undefined && query.before === undefined && !errors);
    const [grant, result] = await Promise.all([
      store.getGrant(session.grantId),
      review.statements(session, {
        ...(query.after !== undefined ? { after: query.after } : query.before !== undefined ? { before: query.before } : last ? { last: true } : {}),
        limit: PAGE_SIZE, errorsOnly: errors,
      }),
    ]);
    const live = row.live && last && !errors;
    const after = result.statements.at(-1)?.chainSeq ?? (await store.auditHead())?.seq ?? 0;
    const script = live ? liveScript(uiPath(['sessions', session.id, 'events'], { after })) : undefined;
    const notice = noticeOf(request.query);
    const body = renderSession(ctx, row, session, grant, row.statements, result, { errors, live });
    return sendHtml(reply, page(ctx, `Session ${session.id}`, body, { ...(script ? { script } : {}), ...(notice ? { notice } : {}) }));
  });

  ui.get('/sessions/:id/events', async (request, reply) => {
    const ctx = pageContext(request);
    const { id } = parse(idParams, request.params, 'path');
    const { after } = parse(eventsQuery, request.query, 'query');
    const session = await review.visible(ctx.identity, id);
    const afterSeq = resumeSeq(request, after) ?? (await store.auditHead())?.seq ?? 0;
    deps.streams.open(reply, session, {
      afterSeq,
      headers: { 'content-security-policy': "default-src 'none'", 'x-content-type-options': 'nosniff' },
      render: (event) => {
        if (event.type !== 'statement') return undefined;
        const markup = timelineRow(statementView(event), session.startedAt, session.protocol, true).value;
        return { event: 'statement', id: String(event.seq), data: JSON.stringify({ seq: event.seq, html: markup }) };
      },
    });
    return reply;
  });

  ui.get('/sessions/:id/export', async (request, reply) => {
    const ctx = pageContext(request);
    const { id } = parse(idParams, request.params, 'path');
    const { format } = parse(exportQuery, request.query, 'query');
    const session = await review.visible(ctx.identity, id);
    return sendExport(reply, store, session, await store.getGrant(session.grantId), format);
  });

  ui.post('/sessions/:id/end', async (request, reply) => {
    const ctx = pageContext(request);
    const { id } = parse(idParams, request.params, 'path');
    const session = await review.visible(ctx.identity, id);
    review.end(ctx.identity, session);
    // Show the page once the engine has told the client and recorded the end, not a moment before.
    await review.waitUntilEnded(session, 3_000);
    return redirectAfterPost(reply, uiPath(['sessions', session.id]), 'ended');
  });
}
