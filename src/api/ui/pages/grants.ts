// Grants: the list (what the signed-in user may see, by state) and one grant's page — requester, reason, decisions,
// window, its sessions — with "revoke" for admins and for the requester of their own open grant.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Grant } from '../../../access/grant.js';
import { OPEN_GRANT_STATES } from '../../../access/grant.js';
import { isAdmin } from '../../../access/identity.js';
import { parse } from '../../parse.js';
import { noticeOf, pageContext, redirectAfterPost, sendHtml } from '../context.js';
import { html, uiPath } from '../html.js';
import { csrfField, formatSpan, formatTime, page } from '../layout.js';
import type { UiDeps } from '../plugin.js';
import { sessionTable } from './sessions.js';

const STATES = ['pending', 'approved', 'active', 'denied', 'ended'] as const;
const listQuery = z.object({ state: z.enum(STATES).optional().or(z.literal('').transform(() => undefined)) });
const idParams = z.object({ id: z.string().max(64) });
const LIST_LIMIT = 200;
const GRANT_SESSIONS_SHOWN = 50;

export const stateBadge = (grant: Grant) =>
  html`<span class="badge ${grant.state}">${grant.state}${grant.endReason ? ` (${grant.endReason})` : ''}</span>`;

function decisionsList(grant: Grant) {
  if (grant.approvalsRequired === 0) return html`auto-approved by policy <code>${grant.policy}</code>`;
  if (grant.decisions.length === 0) return html`<span class="muted">none yet (needs ${grant.approvalsRequired})</span>`;
  return html`<ul>${grant.decisions.map((decision) => html`<li>${decision.decision === 'approve' ? 'approved' : 'denied'} by
<strong>${decision.actor}</strong> at ${formatTime(decision.at)}${decision.comment ? html`: “${decision.comment}”` : ''}</li>`)}</ul>`;
}

export function registerGrantPages(ui: FastifyInstance, deps: UiDeps): void {
  ui.get('/grants', async (request, reply) => {
    const ctx = pageContext(request, 'grants');
    const { state } = parse(listQuery, request.query, 'query');
    const all = await deps.grants.list(ctx.identity, state);
    const shown = all.slice(0, LIST_LIMIT);
    const options = ['', ...STATES].map((value) => html`<option value="${value}" ${value === (state ?? '') ? 'selected' : ''}>${value || 'any state'}</option>`);
    const body = html`<h1>Grants</h1>
<form class="filters" method="get" action="/ui/grants"><label>state<select name="state">${options}</select></label><button type="submit">Filter</button></form>
<table id="grants"><thead><tr><th>grant</th><th>requester</th><th>resource / role</th><th>state</th><th>ttl</th><th>expires / ended</th><th>reason</th><th></th></tr></thead>
<tbody>${shown.map((grant) => html`<tr><td class="mono"><a href="${uiPath(['grants', grant.id])}">${grant.id}</a></td><td>${grant.requester}</td>
<td>${grant.resource} / ${grant.role}</td><td>${stateBadge(grant)}</td><td>${formatSpan(grant.ttlSeconds * 1000)}</td>
<td>${formatTime(grant.endedAt ?? grant.expiresAt)}</td><td>${grant.reason}</td>
<td><a href="${uiPath(['sessions'], { grant: grant.id })}">sessions</a></td></tr>`)}</tbody></table>
${all.length > shown.length ? html`<p class="muted">Newest ${shown.length} of ${all.length}; filter by state to narrow.</p>` : ''}`;
    return sendHtml(reply, page(ctx, 'Grants', body));
  });

  ui.get('/grants/:id', async (request, reply) => {
    const ctx = pageContext(request, 'grants');
    const { id } = parse(idParams, request.params, 'path');
    const grant = await deps.grants.get(ctx.identity, id);
    const open = OPEN_GRANT_STATES.includes(grant.state);
    const mayRevoke = open && (isAdmin(ctx.identity) || grant.requester === ctx.identity.name);
    const sessions = await deps.review.list(ctx.identity, { grantId: grant.id }, GRANT_SESSIONS_SHOWN);
    const revoke = mayRevoke ? html`<form method="post" action="${uiPath(['grants', grant.id, 'revoke'])}" class="inline">${csrfField(ctx)}
<button type="submit" class="danger" id="revoke-grant">${grant.state === 'pending' && grant.requester === ctx.identity.name ? 'Cancel request' : 'Revoke grant'}</button></form>` : '';
    const body = html`<h1>Grant <span class="mono">${grant.id}</span> ${stateBadge(grant)}</h1>
<div class="actions">${revoke}<a href="${uiPath(['sessions'], { grant: grant.id })}">all sessions of this grant</a></div>
<dl class="fields"><dt>requester</dt><dd>${grant.requester}</dd><dt>resource / role</dt><dd>${grant.resource} / ${grant.role}</dd>
<dt>reason</dt><dd>${grant.reason || html`<span class="muted">(none)</span>`}</dd><dt>policy</dt><dd><code>${grant.policy}</code></dd>
<dt>decisions</dt><dd>${decisionsList(grant)}</dd><dt>requested</dt><dd>${formatTime(grant.createdAt)}</dd>
<dt>window</dt><dd>${grant.approvedAt ? formatTime(grant.approvedAt) : html`<span class="muted">not approved</span>`} → ${formatTime(grant.expiresAt)}
(${formatSpan(grant.ttlSeconds * 1000)})</dd><dt>first used</dt><dd>${formatTime(grant.activatedAt) || html`<span class="muted">never</span>`}</dd>
<dt>ended</dt><dd>${grant.endedAt ? `${formatTime(grant.endedAt)} (${grant.endReason ?? grant.state})` : html`<span class="muted">open</span>`}</dd></dl>
<h2>Sessions</h2>${sessionTable(sessions.sessions)}
${sessions.next ? html`<p><a href="${uiPath(['sessions'], { grant: grant.id })}">more sessions…</a></p>` : ''}`;
    const notice = noticeOf(request.query);
    return sendHtml(reply, page(ctx, `Grant ${grant.id}`, body, notice ? { notice } : {}));
  });

  ui.post('/grants/:id/revoke', async (request, reply) => {
    const ctx = pageContext(request);
    const { id } = parse(idParams, request.params, 'path');
    const grant = await deps.grants.revoke(ctx.identity, id);
    return redirectAfterPost(reply, uiPath(['grants', grant.id]), 'revoked');
  });
}
