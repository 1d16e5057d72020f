// One row of a session's statement timeline: offset, a duration bar, the outcome (rows/tag, or the error,
// highlighted), the SQL highlighted, and parameters folded into <details>. The live view streams exactly these rows,
// rendered here on the server, so the browser never builds markup from recorded text.
import type { SafeHtml } from './html.js';
import { html } from './html.js';
import { formatDurationUs, formatOffset } from './layout.js';
import { highlightSql, type SqlDialect } from './sql-highlight.js';
import { offsetMs, type StatementView } from '../routes/statement-view.js';

/** Longer SQL is shown highlighted up to here, with the whole text one click away. */
const HIGHLIGHT_CHARS = 4_000;
const PARAMS_SHOWN = 200;
/** Bars are scaled against this (1 s) on a log scale, so a 1 ms and a 900 ms statement both stay visible. */
const BAR_FULL_US = 1_000_000;

export function barPercent(durationUs: number): number {
  if (durationUs <= 0) return 1;
  const share = Math.log10(1 + durationUs) / Math.log10(1 + BAR_FULL_US);
  return Math.round(Math.min(100, Math.max(1, share * 100)));
}

export function outcomeText(statement: StatementView): string {
  if (statement.error) return `ERROR ${statement.error.code}: ${statement.error.message}`;
  const rows = statement.rows === undefined ? '' : ` · ${statement.rows} row${statement.rows === 1 ? '' : 's'}`;
  return `${statement.tag ?? 'ok'}${rows}`;
}

function sqlCell(statement: StatementView, dialect: SqlDialect): SafeHtml {
  const sql = statement.sql;
  const cut = statement.truncated ? html`<div class="muted">recorded text cut from ${statement.truncated.length} bytes (sha256 ${statement.truncated.sha256})</div>` : '';
  const undecoded = statement.undecoded === undefined ? '' : html`<div class="muted">not decoded by jitgate (relayed as sent): ${statement.undecoded}</div>`;
  const truncated = html`${cut}${undecoded}`;
  if (sql.length <= HIGHLIGHT_CHARS) return html`<pre><code>${highlightSql(sql, dialect)}</code></pre>${truncated}`;
  return html`<pre><code>${highlightSql(sql.slice(0, HIGHLIGHT_CHARS), dialect)}</code>…</pre>
<details><summary>full text (${sql.length} characters)</summary><pre>${sql}</pre></details>${truncated}`;
}

function paramsCell(statement: StatementView): SafeHtml | string {
  const params = statement.params;
  if (params === undefined || params.length === 0) return '';
  // An <ol> numbers them as the protocol does ($1, $2 … / the n-th ?).
  const shown = params.slice(0, PARAMS_SHOWN).map((value) =>
    html`<li>${value === null ? html`<span class="muted">NULL</span>` : html`<code>${value}</code>`}</li>`);
  const more = params.length > PARAMS_SHOWN ? html`<li class="muted">… ${params.length - PARAMS_SHOWN} more (see the export)</li>` : '';
  return html`<details><summary>${params.length} parameter${params.length === 1 ? '' : 's'}</summary><ol class="mono">${shown}${more}</ol></details>`;
}

export function timelineRow(statement: StatementView, sessionStartedAt: Date, dialect: SqlDialect, fresh = false): SafeHtml {
  const classes = [statement.error ? 'error' : '', fresh ? 'new' : ''].filter(Boolean).join(' ');
  const name = statement.statement_name ? html` <span class="muted">(${statement.statement_name})</span>` : '';
  return html`<tr id="st-${statement.chainSeq}" class="${classes}" data-seq="${statement.chainSeq}">
<td class="num"><a href="#st-${statement.chainSeq}">${statement.seq}</a></td>
<td class="num mono">${formatOffset(offsetMs(statement, sessionStartedAt))}</td>
<td class="dur"><div class="bar" style="width:${barPercent(statement.duration_us)}%"></div><span>${formatDurationUs(statement.duration_us)}</span></td>
<td class="res">${outcomeText(statement)}</td>
<td><span class="muted">${statement.kind}</span>${name}</td>
<td>${sqlCell(statement, dialect)}${paramsCell(statement)}</td></tr>`;
}

export const TIMELINE_HEAD = html`<thead><tr><th class="num">#</th><th class="num">offset</th><th>duration</th><th>result</th><th>kind</th><th>SQL / parameters</th></tr></thead>`;

/**
 * The live view: a few lines of vanilla JS. Rows arrive as server-rendered (escaped) HTML in JSON; a reconnecting
 * EventSource resumes from the last event id on its own. `end` reloads, so the page shows the final state.
 */
export function liveScript(eventsUrl: string): string {
  return `(() => {
  const body = document.getElementById('timeline-body');
  const status = document.getElementById('live-status');
  const source = new EventSource(${JSON.stringify(eventsUrl).replace(/</g, '\\u003c')});
  source.addEventListener('statement', (e) => {
    const row = JSON.parse(e.data);
    if (document.getElementById('st-' + row.seq)) return;
    body.insertAdjacentHTML('beforeend', row.html);
    const count = document.getElementById('statement-count');
    if (count) count.textContent = String(Number(count.textContent) + 1);
    body.lastElementChild.scrollIntoView({ block: 'nearest' });
  });
  source.addEventListener('end', () => { source.close(); status.textContent = 'session ended'; setTimeout(() => location.reload(), 300); });
  source.onerror = () => { status.textContent = 'reconnecting…'; };
  source.onopen = () => { status.textContent = 'live: new statements appear as they are recorded'; };
})();`;
}
