// The sessions list: filters (grant, resource, user, time window, open/ended) and keyset pages of 100, newest first.
// A requester sees only their own sessions (SessionReview scopes the query); the user filter is an auditor's.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isAuditor } from '../../../access/identity.js';
import { parse } from '../../parse.js';
import { cursorOf } from '../../routes/sessions.js';
import type { SessionReview, SessionRow } from '../../routes/session-review.js';
import { pageContext, sendHtml } from '../context.js';
import { html, uiPath } from '../html.js';
import { formatSpan, formatTime, page } from '../layout.js';

const PAGE_SIZE = 100;
const blank = z.literal('').transform(() => undefined);
const text = (max: number) => z.string().trim().max(max).optional().or(blank);
/** `<input type="datetime-local">` sends no offset: read it as UTC, the zone every time on these pages is shown in. */
const localTime = z.string().max(40).optional().or(blank).transform((value, ctx) => {
  if (value === undefined) return undefined;
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'expected a date and time' });
    return z.NEVER;
  }
  return date;
});

const filterQuery = z.object({
  grant: text(64), resource: text(128), user: text(128), since: localTime, until: localTime,
  state: z.enum(['open', 'ended']).optional().or(blank),
  cursor: text(200),
});

export function sessionDuration(row: SessionRow, now = Date.now()): string {
  const end = row.endedAt === null ? now : Date.parse(row.endedAt);
  return formatSpan(end - Date.parse(row.startedAt));
}

function endCell(row: SessionRow) {
  if (row.live) return html`<span class="badge live">live</span>`;
  if (row.endedAt === null) return html`<span class="badge">open</span>`;
  return row.endReason ?? '';
}

export function sessionTable(rows: readonly SessionRow[]) {
  if (rows.length === 0) return html`<p class="muted">No sessions.</p>`;
  return html`<table id="sessions"><thead><tr><th>session</th><th>user</th><th>resource</th><th>role</th><th>client</th><th>started</th>
<th class="num">duration</th><th class="num">statements</th><th>end reason</th></tr></thead><tbody>${rows.map((row) => html`<tr data-session="${row.id}">
<td class="mono"><a href="${uiPath(['sessions', row.id])}">${row.id}</a></td><td>${row.user}</td><td>${row.resource}</td><td>${row.role}</td>
<td>${row.client}${row.program ? html` <span class="muted">(${row.program})</span>` : ''}</td><td>${formatTime(row.startedAt)}</td>
<td class="num">${sessionDuration(row)}</td><td class="num">${row.statements}</td><td>${endCell(row)}</td></tr>`)}</tbody></table>`;
}

const inputTime = (date: Date | undefined): string => (date === undefined ? '' : date.toISOString().slice(0, 16));

export function registerSessionListPage(ui: FastifyInstance, review: SessionReview): void {
  ui.get('/sessions', async (request, reply) => {
    const ctx = pageContext(request, 'sessions');
    const query = parse(filterQuery, request.query, 'filters');
    const auditor = isAuditor(ctx.identity);
    const filter = {
      ...(query.grant ? { grantId: query.grant } : {}),
      ...(query.resource ? { resource: query.resource } : {}),
      ...(query.user && auditor ? { user: query.user } : {}),
      ...(query.since ? { since: query.since } : {}),
      ...(query.until ? { until: query.until } : {}),
      ...(query.state ? { active: query.state === 'open' } : {}),
    };
    const result = await review.list(ctx.identity, filter, PAGE_SIZE, cursorOf(query.cursor));
    const kept = {
      grant: query.grant, resource: query.resource, user: auditor ? query.user : undefined,
      since: query.since ? inputTime(query.since) : undefined, until: query.until ? inputTime(query.until) : undefined, state: query.state,
    };
    const state = (value: string, label: string) => html`<option value="${value}" ${(query.state ?? '') === value ? 'selected' : ''}>${label}</option>`;
    const body = html`<h1>Sessions</h1>
<form class="filters" method="get" action="/ui/sessions">
<label>grant<input name="grant" value="${query.grant ?? ''}" size="24"></label>
<label>resource<input name="resource" value="${query.resource ?? ''}" size="14"></label>
${auditor ? html`<label>user<input name="user" value="${query.user ?? ''}" size="12"></label>` : ''}
<label>started from (UTC)<input type="datetime-local" name="since" value="${inputTime(query.since)}"></label>
<label>until (UTC)<input type="datetime-local" name="until" value="${inputTime(query.until)}"></label>
<label>state<select name="state">${state('', 'any')}${state('open', 'open')}${state('ended', 'ended')}</select></label>
<button type="submit">Filter</button> <a href="/ui/sessions">clear</a></form>
${auditor ? '' : html`<p class="muted">Showing your own sessions.</p>`}
${sessionTable(result.sessions)}
<div class="pager">${query.cursor ? html`<a href="${uiPath(['sessions'], kept)}">« newest</a>` : ''}
${result.next ? html`<a href="${uiPath(['sessions'], { ...kept, cursor: result.next })}" id="next-page">older »</a>` : ''}</div>`;
    return sendHtml(reply, page(ctx, 'Sessions', body));
  });
}
