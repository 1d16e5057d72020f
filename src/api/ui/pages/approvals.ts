// The approvals queue: pending grants the signed-in user may decide (approve or deny, with a comment), and their own
// pending requests. GrantService makes the decisions and the checks (no self-approval, approver groups, state).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Grant } from '../../../access/grant.js';
import type { GrantService } from '../../../access/grant-service.js';
import { canDecide } from '../../../access/policy.js';
import { parse } from '../../parse.js';
import { noticeOf, pageContext, redirectAfterPost, sendHtml } from '../context.js';
import { html, uiPath } from '../html.js';
import { csrfField, formatSpan, formatTime, page, type PageContext } from '../layout.js';

const decisionForm = z.object({ comment: z.string().max(1_000).default('') });
const idParams = z.object({ id: z.string().max(64) });

function approvals(grant: Grant): string {
  const count = grant.decisions.filter((decision) => decision.decision === 'approve').length;
  return `${count}/${grant.approvalsRequired}`;
}

function decideRow(ctx: PageContext, grant: Grant) {
  const action = (decision: string): string => uiPath(['grants', grant.id, decision]);
  return html`<tr data-grant="${grant.id}">
<td class="mono"><a href="${uiPath(['grants', grant.id])}">${grant.id}</a></td><td>${grant.requester}</td>
<td>${grant.resource} / ${grant.role}</td><td>${formatSpan(grant.ttlSeconds * 1000)}</td><td>${grant.reason}</td>
<td>${formatTime(grant.createdAt)}</td><td class="num">${approvals(grant)}</td>
<td><form method="post" action="${action('approve')}" class="inline">${csrfField(ctx)}
<input name="comment" placeholder="comment" maxlength="1000" aria-label="comment for ${grant.id}">
<button type="submit" class="primary">Approve</button>
<button type="submit" formaction="${action('deny')}" class="danger">Deny</button></form></td></tr>`;
}

export function registerApprovalPages(ui: FastifyInstance, grants: GrantService): void {
  ui.get('/approvals', async (request, reply) => {
    const ctx = pageContext(request, 'approvals');
    const me = ctx.identity;
    const pending = await grants.list(me, 'pending');
    const decidable = pending.filter((grant) => grant.requester !== me.name && canDecide(me, grant.approverGroups));
    const mine = pending.filter((grant) => grant.requester === me.name);
    const queue = decidable.length === 0
      ? html`<p class="muted">Nothing waits for your approval.</p>`
      : html`<table id="approvals"><thead><tr><th>grant</th><th>requester</th><th>resource / role</th><th>ttl</th><th>reason</th>
<th>requested</th><th class="num">approvals</th><th>decision</th></tr></thead><tbody>${decidable.map((grant) => decideRow(ctx, grant))}</tbody></table>`;
    const own = mine.length === 0 ? '' : html`<h2>Your pending requests</h2><table><thead><tr><th>grant</th><th>resource / role</th>
<th>reason</th><th class="num">approvals</th><th>lapses</th></tr></thead><tbody>${mine.map((grant) => html`<tr>
<td class="mono"><a href="${uiPath(['grants', grant.id])}">${grant.id}</a></td><td>${grant.resource} / ${grant.role}</td>
<td>${grant.reason}</td><td class="num">${approvals(grant)}</td><td>${formatTime(grant.expiresAt)}</td></tr>`)}</tbody></table>`;
    const body = html`<h1>Approvals</h1>${queue}${own}`;
    const notice = noticeOf(request.query);
    return sendHtml(reply, page(ctx, 'Approvals', body, notice ? { notice } : {}));
  });

  for (const decision of ['approve', 'deny'] as const) {
    ui.post(`/grants/:id/${decision}`, async (request, reply) => {
      const ctx = pageContext(request);
      const { id } = parse(idParams, request.params, 'path');
      const { comment } = parse(decisionForm, request.body, 'form');
      if (decision === 'approve') await grants.approve(ctx.identity, id, comment);
      else await grants.deny(ctx.identity, id, comment);
      return redirectAfterPost(reply, '/ui/approvals', decision === 'approve' ? 'approved' : 'denied');
    });
  }
}
