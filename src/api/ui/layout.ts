// The page shell: navigation by role, the logout form, the inline stylesheet, and an optional inline script that
// carries the response's CSP nonce. Plus the small formatters every page uses.
import { isAuditor, type Identity } from '../../access/identity.js';
import { html, SafeHtml, type HtmlValue } from './html.js';
import { STYLES } from './styles.js';

/** What every page of a signed-in user is rendered with. */
export interface PageContext {
  readonly identity: Identity;
  readonly csrf: string;
  /** This response's CSP nonce: the only inline script that runs is the one carrying it. */
  readonly nonce: string;
  /** The nav entry to mark. */
  readonly section?: 'approvals' | 'grants' | 'sessions' | 'search' | 'audit';
}

export interface PageOptions {
  readonly script?: string;
  readonly notice?: { readonly kind: 'ok' | 'bad'; readonly text: string };
}

const NAV = [
  ['approvals', '/ui/approvals', 'Approvals', false],
  ['grants', '/ui/grants', 'Grants', false],
  ['sessions', '/ui/sessions', 'Sessions', false],
  ['search', '/ui/search', 'Search', true],
  ['audit', '/ui/audit', 'Audit chain', true],
] as const;

export const csrfField = (ctx: PageContext): SafeHtml => html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

function shell(title: string, header: HtmlValue, body: SafeHtml, nonce: string, script: string | undefined): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>${title} · jitgate</title><style>${new SafeHtml(STYLES)}</style></head>
<body>${header}<main>${body}</main>${script === undefined ? '' : html`<script nonce="${nonce}">${new SafeHtml(script)}</script>`}</body></html>`.value;
}

export function page(ctx: PageContext, title: string, body: SafeHtml, options: PageOptions = {}): string {
  const nav = NAV.filter(([, , , auditorOnly]) => !auditorOnly || isAuditor(ctx.identity))
    .map(([section, href, label]) => html`<a href="${href}" class="${ctx.section === section ? 'here' : ''}">${label}</a>`);
  const header = html`<header class="top"><span class="brand">jitgate</span>${nav}
<span class="who">${ctx.identity.name} <span class="muted">(${ctx.identity.groups.join(', ') || 'no groups'})</span></span>
<form method="post" action="/ui/logout">${csrfField(ctx)}<button type="submit">Sign out</button></form></header>`;
  const notice = options.notice ? html`<p class="notice ${options.notice.kind}" role="status">${options.notice.text}</p>` : '';
  return shell(title, header, html`${notice}${body}`, ctx.nonce, options.script);
}

/** A page for someone not signed in (the login form, errors before login). */
export function barePage(title: string, body: SafeHtml, nonce: string): string {
  return shell(title, '', body, nonce, undefined);
}

/** "2025-01-31 12:00:05Z": unambiguous, sortable, and the same on every reviewer's screen. */
export function formatTime(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A span for people: "850ms", "12.3s", "4m 05s", "30m", "2h 10m". */
export function formatSpan(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3_600) return seconds % 60 === 0 ? `${seconds / 60}m` : `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor((seconds % 3_600) / 60);
  return minutes === 0 ? `${Math.floor(seconds / 3_600)}h` : `${Math.floor(seconds / 3_600)}h ${String(minutes).padStart(2, '0')}m`;
}

/** A statement's duration from microseconds: "0.12ms", "15.0ms", "2.31s". */
export function formatDurationUs(us: number): string {
  if (us < 1_000) return `${(us / 1000).toFixed(2)}ms`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(1)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/** Offset from the session start: "+0.000s", "+75.250s". */
export const formatOffset = (ms: number): string => `+${(Math.max(0, ms) / 1000).toFixed(3)}s`;
