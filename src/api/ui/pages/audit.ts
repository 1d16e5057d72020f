// Auditor pages: the audit chain's status (head always; a full re-walk on request, since it reads every event) and
// statement search across sessions, each hit linking to its place in the session's timeline.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { forbidden } from '../../../access/errors.js';
import { isAuditor } from '../../../access/identity.js';
import { verifyStoredChain } from '../../../audit/verify.js';
import { parse } from '../../parse.js';
import { searchOf } from '../../routes/statements.js';
import { pageContext, sendHtml } from '../context.js';
import { html, uiPath } from '../html.js';
import { formatDurationUs, formatTime, page, type PageContext } from '../layout.js';
import type { UiDeps } from '../plugin.js';
import { highlightSql } from '../sql-highlight.js';
import { outcomeText } from '../timeline.js';

const SEARCH_PAGE = 100;
const SQL_SHOWN = 600;
const blank = z.literal('').transform(() => undefined);
const searchQuery = z.object({
  q: z.string().max(1_000).optional().or(blank),
  cursor: z.coerce.number().int().min(1).optional().or(blank),
});
const auditQuery = z.object({ verify: z.literal('1').optional() });

function auditorContext(ctx: PageContext): PageContext {
  if (!isAuditor(ctx.identity)) throw forbidden('this page needs the auditor or admin group');
  return ctx;
}

export function registerAuditPages(ui: FastifyInstance, deps: UiDeps): void {
  ui.get('/audit', async (request, reply) => {
    const ctx = auditorContext(pageContext(request, 'audit'));
    const { verify } = parse(auditQuery, request.query, 'query');
    await deps.flushAudit();
    const head = await deps.store.auditHead();
    let verdict = html`<p><a href="/ui/audit?verify=1" id="verify-chain">Verify the whole chain now</a>
<span class="muted">(re-reads every event; seconds on a large trail)</span></p>`;
    if (verify === '1') {
      const result = await verifyStoredChain(deps.store, { batchSize: 1_000 });
      verdict = result.ok
        ? html`<p class="notice ok" id="chain-status">Chain intact: ${result.events} events verified.</p>`
        : html`<p class="notice bad" id="chain-status">Chain BROKEN at event #${result.firstBroken?.seq ?? '?'}
(${result.firstBroken?.id ?? ''}): ${result.firstBroken?.reason ?? ''}. Everything from there on cannot be trusted.</p>`;
    }
    const body = html`<h1>Audit chain</h1>
<dl class="fields"><dt>events</dt><dd>${head?.seq ?? 0}</dd><dt>head hash</dt><dd class="mono">${head?.hash ?? '(empty chain)'}</dd>
<dt>rule</dt><dd>hash = SHA-256(prev ‖ canonical JSON); <code>jitgate audit verify</code> re-walks it too</dd></dl>${verdict}`;
    return sendHtml(reply, page(ctx, 'Audit chain', body));
  });

  ui.get('/search', async (request, reply) => {
    const ctx = auditorContext(pageContext(request, 'search'));
    const query = parse(searchQuery, request.query, 'query');
    const form = html`<form class="filters" method="get" action="/ui/search"><label>SQL contains
<input name="q" value="${query.q ?? ''}" size="50" autofocus></label><button type="submit" class="primary">Search</button></form>`;
    if (query.q === undefined) {
      return sendHtml(reply, page(ctx, 'Search', html`<h1>Statement search</h1>${form}<p class="muted">Case-insensitive substring match on recorded SQL, newest first.</p>`));
    }
    const result = await deps.review.search(ctx.identity, searchOf({ q: query.q, limit: SEARCH_PAGE, ...(query.cursor ? { cursor: query.cursor } : {}) }));
    const rows = result.statements.map((hit) => {
      const sessionLink = hit.session
        ? uiPath(['sessions', hit.session], { after: hit.chainSeq - 1 })
        : undefined;
      const sql = hit.sql.length > SQL_SHOWN ? `${hit.sql.slice(0, SQL_SHOWN)}…` : hit.sql;
      return html`<tr class="${hit.error ? 'error' : ''}"><td>${formatTime(hit.ts)}</td><td>${hit.user ?? ''}</td><td>${hit.resource ?? ''}</td>
<td class="mono">${sessionLink ? html`<a href="${sessionLink}#st-${hit.chainSeq}">${hit.session}</a>` : ''}</td>
<td class="res">${outcomeText(hit)}</td><td class="num">${formatDurationUs(hit.duration_us)}</td>
<td><pre><code>${highlightSql(sql, 'postgres')}</code></pre></td></tr>`;
    });
    const body = html`<h1>Statement search</h1>${form}
${rows.length === 0 ? html`<p class="muted">No statement matches.</p>` : html`<table id="results"><thead><tr><th>time</th><th>user</th><th>resource</th>
<th>session</th><th>result</th><th class="num">duration</th><th>SQL</th></tr></thead><tbody>${rows}</tbody></table>`}
${result.next !== null ? html`<p class="pager"><a href="${uiPath(['search'], { q: query.q, cursor: result.next })}">older matches »</a></p>` : ''}`;
    return sendHtml(reply, page(ctx, 'Search', body));
  });
}
