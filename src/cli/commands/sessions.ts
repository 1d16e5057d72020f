// `jitgate sessions` and `sessions show <id>`: who connected through which grant, and what they ran.
import type { Command } from 'commander';
import type { SessionDetail, SessionInfo, SessionListEntry, StatementInfo } from '../api-schemas.js';
import { sinceTimestamp } from '../arguments.js';
import { apiClientFor, print, printJson, withApiOptions } from '../context.js';
import { describeTime, formatBytes, formatRelative } from '../format.js';
import { renderFields, renderTable } from '../table.js';

interface ListOptions {
  readonly grant?: string;
  readonly resource?: string;
  readonly user?: string;
  readonly since?: string;
  readonly json?: boolean;
}

const SESSION_COLUMNS = [
  { header: 'ID' }, { header: 'GRANT' }, { header: 'RESOURCE' }, { header: 'USER' }, { header: 'CLIENT', maxWidth: 40 },
  { header: 'STARTED' }, { header: 'ENDED' }, { header: 'STATEMENTS' },
] as const;

const STATEMENT_COLUMNS = [
  { header: 'SEQ' }, { header: 'KIND' }, { header: 'DURATION' }, { header: 'RESULT', maxWidth: 50 }, { header: 'SQL', maxWidth: 100 },
] as const;

const relative = (text: string | null | undefined, now: Date): string => {
  if (text === null || text === undefined) return '';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : formatRelative(date, now);
};

const grantOf = (session: SessionInfo): string => session.grant ?? session.grantId ?? '';

const clientOf = (session: SessionInfo): string => {
  const program = session.program ?? session.clientProgram;
  return [session.client ?? session.clientAddress, program ? `(${program})` : undefined].filter(Boolean).join(' ');
};

export function sessionRows(sessions: readonly SessionListEntry[], now: Date): string[][] {
  return sessions.map((session) => [
    session.id,
    grantOf(session),
    session.resource ?? '',
    session.user ?? '',
    clientOf(session),
    relative(session.startedAt, now),
    session.endedAt ? `${relative(session.endedAt, now)}${session.endReason ? ` (${session.endReason})` : ''}` : 'open',
    session.statements === undefined ? '' : String(session.statements),
  ]);
}

function statementResult(statement: StatementInfo): string {
  if (statement.error) return `ERROR ${statement.error.code}: ${statement.error.message}`;
  const rows = typeof statement.rows === 'number' ? ` (${statement.rows} rows)` : '';
  return `${statement.tag ?? 'ok'}${rows}`;
}

export function statementRows(statements: readonly StatementInfo[]): string[][] {
  return statements.map((statement) => [
    statement.seq === undefined ? '' : String(statement.seq),
    statement.kind ?? '',
    typeof statement.duration_us === 'number' ? `${(statement.duration_us / 1000).toFixed(1)}ms` : '',
    statementResult(statement),
    statement.sql ?? '',
  ]);
}

function printSessionDetail(session: SessionDetail): void {
  const now = new Date();
  const bytes = typeof session.bytesIn === 'number' && typeof session.bytesOut === 'number'
    ? [['bytes', `${formatBytes(session.bytesIn)} in, ${formatBytes(session.bytesOut)} out`] as const] : [];
  print(`session ${session.id}`);
  print(renderFields([
    ['grant', grantOf(session)],
    ['resource', [session.resource, session.role].filter(Boolean).join(' / ')],
    ['user', session.user ?? ''],
    ['protocol', `${session.protocol ?? ''}${session.tls === undefined ? '' : session.tls ? ' over TLS' : ' (no TLS)'}`],
    ['client', clientOf(session)],
    ['started', describeTime(session.startedAt, now)],
    ['ended', session.endedAt ? `${describeTime(session.endedAt, now)}${session.endReason ? `: ${session.endReason}` : ''}` : 'still open'],
    ...bytes,
  ]));
  const statements = session.statements ?? [];
  print(statements.length === 0 ? 'no statements' : `\n${renderTable(STATEMENT_COLUMNS, statementRows(statements))}`);
  if (typeof session.next === 'number') print(`(first ${statements.length} statements shown; see --json or the web UI for the rest)`);
}

export function registerSessions(program: Command): void {
  const sessions = withApiOptions(program.command('sessions'))
    .description('list client sessions (filters combine)')
    .option('--grant <grant>', 'only sessions of this grant')
    .option('--resource <resource>', 'only sessions on this resource')
    .option('--user <name>', 'only sessions of this requester')
    .option('--since <when>', 'only sessions started after this (a timestamp, or a duration back from now like 2h)', (value: string) => sinceTimestamp(value))
    .option('--json', 'print the sessions as JSON')
    .action(async (options: ListOptions, command: Command) => {
      // Named one by one: the options object also holds --url and --api-key, which must never become query text.
      const query = {
        ...(options.grant === undefined ? {} : { grant: options.grant }),
        ...(options.resource === undefined ? {} : { resource: options.resource }),
        ...(options.user === undefined ? {} : { user: options.user }),
        ...(options.since === undefined ? {} : { since: options.since }),
      };
      const list = await apiClientFor(command).listSessions(query);
      if (options.json) printJson(list);
      else if (list.length === 0) print('no sessions');
      else print(renderTable(SESSION_COLUMNS, sessionRows(list, new Date())));
    });

  withApiOptions(sessions.command('show'))
    .description('one session with its statement timeline')
    .argument('<session>', 'session id (s_…)')
    .option('--json', 'print the session as JSON')
    .action(async (id: string, options: { readonly json?: boolean }, command: Command) => {
      const session = await apiClientFor(command).getSession(id);
      if (options.json) printJson(session);
      else printSessionDetail(session);
    });
}
