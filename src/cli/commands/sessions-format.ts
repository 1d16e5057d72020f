// What `jitgate sessions …` and `audit search` print, built from API objects. Pure: objects in, rows and lines out.
import type { Grant, SessionInfo } from '../api-schemas.js';
import { formatRelative, formatSpan } from '../format.js';
import { printable } from '../table.js';
import type { SessionRow, SessionTimeline, StatementHit, StatementView } from './review-schemas.js';

export const SESSION_COLUMNS = [
  { header: 'ID' }, { header: 'USER' }, { header: 'RESOURCE' }, { header: 'ROLE' }, { header: 'CLIENT', maxWidth: 40 },
  { header: 'STARTED' }, { header: 'DURATION' }, { header: 'STATEMENTS' }, { header: 'END REASON', maxWidth: 40 },
] as const;

export const TIMELINE_COLUMNS = [
  { header: 'OFFSET' }, { header: 'DURATION' }, { header: 'RESULT', maxWidth: 50 }, { header: 'SQL', maxWidth: 100 }, { header: 'PARAMS', maxWidth: 60 },
] as const;

export const SEARCH_COLUMNS = [
  { header: 'TIME' }, { header: 'USER' }, { header: 'RESOURCE' }, { header: 'SESSION' }, { header: 'RESULT', maxWidth: 40 }, { header: 'SQL', maxWidth: 100 },
] as const;

const parseTime = (text: string | null | undefined): number | undefined => {
  if (text === null || text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
};

/** "2025-01-31 12:00:05Z". */
export function shortTime(text: string | null | undefined): string {
  const ms = parseTime(text);
  return ms === undefined ? (text ?? '') : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

const clientOf = (session: SessionInfo): string => {
  const program = session.program ?? session.clientProgram;
  return [session.client ?? session.clientAddress, program ? `(${program})` : undefined].filter(Boolean).join(' ');
};

export function sessionDuration(session: SessionInfo, now: Date): string {
  const started = parseTime(session.startedAt);
  if (started === undefined) return '';
  const ended = parseTime(session.endedAt) ?? now.getTime();
  return formatSpan((ended - started) / 1000);
}

export function sessionRows(sessions: readonly SessionRow[], now: Date): string[][] {
  return sessions.map((session) => [
    session.id,
    session.user ?? '',
    session.resource ?? '',
    session.role ?? '',
    clientOf(session),
    shortTime(session.startedAt),
    sessionDuration(session, now),
    session.statements === undefined ? '' : String(session.statements),
    session.endedAt ? (session.endReason ?? 'ended') : session.live ? 'open (live)' : 'open',
  ]);
}

export function statementResult(statement: StatementView): string {
  if (statement.error) return `ERROR ${statement.error.code}: ${statement.error.message}`;
  const rows = typeof statement.rows === 'number' ? ` (${statement.rows} row${statement.rows === 1 ? '' : 's'})` : '';
  return `${statement.tag ?? 'ok'}${rows}`;
}

/** "+1.234s" from the session start. */
export function offsetText(statement: StatementView, sessionStartedAt: string | null | undefined): string {
  const started = parseTime(statement.started);
  const base = parseTime(sessionStartedAt);
  if (started === undefined || base === undefined) return '';
  return `+${(Math.max(0, started - base) / 1000).toFixed(3)}s`;
}

export const durationText = (statement: StatementView): string =>
  (typeof statement.duration_us === 'number' ? `${(statement.duration_us / 1000).toFixed(1)}ms` : '');

export const paramsText = (statement: StatementView): string =>
  (statement.params === undefined || statement.params.length === 0 ? '' : JSON.stringify(statement.params));

export function statementRows(statements: readonly StatementView[], sessionStartedAt: string | null | undefined): string[][] {
  return statements.map((statement) => [
    offsetText(statement, sessionStartedAt), durationText(statement), statementResult(statement), statement.sql ?? '', paramsText(statement),
  ]);
}

/** One line per statement for `--follow`: fixed-width leading columns, then the SQL, then parameters. */
export function followLine(statement: StatementView, sessionStartedAt: string | null | undefined): string {
  const fields = [
    offsetText(statement, sessionStartedAt).padEnd(11), durationText(statement).padStart(9), ' ', statementResult(statement).padEnd(22),
    ' ', statement.sql ?? '', paramsText(statement) ? `  ${paramsText(statement)}` : '',
  ];
  return printable(fields.join(''));
}

/** The grant part of `sessions show`: who asked, why, who approved, and the window it was valid in. */
export function grantFields(session: SessionTimeline): [string, string][] {
  const grant: Grant | null | undefined = session.grantDetail;
  const id = session.grant ?? session.grantId ?? '';
  if (!grant) return [['grant', id]];
  const approvals = grant.approvals ?? [];
  const approvers = grant.approvalsRequired === 0
    ? `auto (policy ${grant.policy ?? '?'})`
    : approvals.length === 0 ? 'none' : approvals.map((a) => `${a.actor}${a.comment ? ` ("${a.comment}")` : ''}`).join(', ');
  const end = grant.endedAt ? `${shortTime(grant.endedAt)} (${grant.endReason ?? grant.state})` : `${shortTime(grant.expiresAt)} (expires)`;
  return [
    ['grant', `${grant.id}  ${grant.resource} / ${grant.role}, ${grant.state}`],
    ['requester', grant.requester],
    ['reason', grant.reason ?? ''],
    ['approvers', approvers],
    ['window', `${shortTime(grant.approvedAt ?? grant.createdAt)} → ${end}`],
  ];
}

export function sessionFields(session: SessionTimeline, now: Date): [string, string][] {
  const ended = session.endedAt ? `${shortTime(session.endedAt)}: ${session.endReason ?? ''}` : session.live ? 'still open (live)' : 'still open';
  return [
    ['resource', [session.resource, session.role].filter(Boolean).join(' / ')],
    ['user', session.user ?? ''],
    ['protocol', `${session.protocol ?? ''}${session.tls === undefined ? '' : session.tls ? ' over TLS' : ' (no TLS)'}`],
    ['client', clientOf(session)],
    ['started', `${shortTime(session.startedAt)} (${formatRelative(new Date(session.startedAt ?? ''), now)})`],
    ['ended', ended],
    ['duration', sessionDuration(session, now)],
    ['statements', String(session.statementCount ?? session.statements?.length ?? 0)],
  ];
}

export function searchRows(hits: readonly StatementHit[]): string[][] {
  return hits.map((hit) => [shortTime(hit.ts ?? hit.started), hit.user ?? '', hit.resource ?? '', hit.session ?? '', statementResult(hit), hit.sql ?? '']);
}
