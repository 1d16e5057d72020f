// `jitgate sessions` (filters, aligned table), `sessions show <id>` (the grant and the statement timeline; --follow
// streams a live session), `sessions export <id> --format json|csv`.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { sinceTimestamp } from '../arguments.js';
import { apiClientFor, print, printJson, warn, withApiOptions } from '../context.js';
import { CliError } from '../errors.js';
import { renderFields, renderTable } from '../table.js';
import { sessionPageSchema, sessionTimelineSchema, statementViewSchema, type SessionRow, type StatementView } from './review-schemas.js';
import {
  SESSION_COLUMNS, TIMELINE_COLUMNS, followLine, grantFields, sessionFields, sessionRows, statementRows,
} from './sessions-format.js';
import { openStream, readSse } from './sessions-stream.js';

export { sessionRows, statementRows } from './sessions-format.js';

interface ListOptions {
  readonly grant?: string;
  readonly resource?: string;
  readonly user?: string;
  readonly since?: string;
  readonly until?: string;
  readonly active?: boolean;
  readonly limit: number;
  readonly json?: boolean;
}

interface ShowOptions {
  readonly json?: boolean;
  readonly follow?: boolean;
  readonly limit: number;
}

const PAGE = 500;
const endEventSchema = z.looseObject({ reason: z.string().nullable().optional() });

/** An event's JSON data, or undefined when the server sent something else. */
function jsonOf(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** A count option: a whole number ≥ 0 (0 = no limit). */
export function countArgument(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 for no limit).');
  return Number(value);
}

const pathOf = (id: string, rest = ''): string => `v1/sessions/${encodeURIComponent(id)}${rest}`;

async function listAll(command: Command, options: ListOptions): Promise<SessionRow[]> {
  const client = apiClientFor(command);
  // Named one by one: the options object also holds --url and --api-key, which must never become query text.
  const params = new URLSearchParams();
  for (const key of ['grant', 'resource', 'user', 'since', 'until'] as const) {
    const value = options[key];
    if (value !== undefined) params.set(key, value);
  }
  if (options.active) params.set('active', 'true');
  const sessions: SessionRow[] = [];
  let cursor: string | null | undefined;
  do {
    const want = options.limit === 0 ? 1_000 : Math.min(1_000, options.limit - sessions.length);
    params.set('limit', String(want));
    if (cursor) params.set('cursor', cursor);
    const page = await client.call('GET', `v1/sessions?${params.toString()}`, sessionPageSchema);
    sessions.push(...page.sessions);
    cursor = page.next;
  } while (cursor && (options.limit === 0 || sessions.length < options.limit));
  return sessions;
}

/** Streams new statements until the session ends; the server closes the stream with an `end` event. */
async function follow(command: Command, id: string, afterSeq: number, startedAt: string | null | undefined, json: boolean): Promise<void> {
  const response = await openStream(command, pathOf(id, `/events?after=${afterSeq}`), 'text/event-stream');
  if (!response.body) throw new CliError('the server sent no event stream');
  if (!json) warn(`following ${id}; Ctrl-C to stop`);
  for await (const event of readSse(response.body)) {
    if (event.event === 'statement') {
      const statement = statementViewSchema.safeParse(jsonOf(event.data));
      if (!statement.success) continue;
      if (json) process.stdout.write(`${JSON.stringify(statement.data)}\n`);
      else print(followLine(statement.data, startedAt));
    } else if (event.event === 'end') {
      const end = endEventSchema.safeParse(jsonOf(event.data));
      if (!json) warn(`session ended: ${(end.success ? end.data.reason : undefined) ?? 'unknown reason'}`);
      return;
    } else if (event.event === 'error') {
      throw new CliError(`live stream failed: ${event.data}`);
    }
  }
  throw new CliError('the live stream closed before the session ended; run the command again to resume');
}

async function show(command: Command, id: string, options: ShowOptions): Promise<void> {
  const client = apiClientFor(command);
  // Following starts from the newest page: the point is what happens next, not the first statements of a long session.
  const firstPath = pathOf(id, `?limit=${options.follow ? Math.min(PAGE, options.limit || PAGE) : PAGE}${options.follow ? '&last=true' : ''}`);
  const session = await client.call('GET', firstPath, sessionTimelineSchema);
  const statements: StatementView[] = [...(session.statements ?? [])];
  let next = options.follow ? null : (session.next ?? null);
  while (next !== null && (options.limit === 0 || statements.length < options.limit)) {
    const page = await client.call('GET', pathOf(id, `?after=${next}&limit=${PAGE}`), sessionTimelineSchema);
    statements.push(...(page.statements ?? []));
    next = page.next ?? null;
  }
  const shown = options.limit === 0 ? statements : statements.slice(0, options.limit);
  if (options.json) {
    printJson({ ...session, statements: shown, next: shown.length < statements.length ? shown.at(-1)?.chainSeq ?? null : next });
  } else {
    const now = new Date();
    print(`session ${session.id}`);
    print(renderFields([...grantFields(session), ...sessionFields(session, now)]));
    print(shown.length === 0 ? 'no statements' : `\n${renderTable(TIMELINE_COLUMNS, statementRows(shown, session.startedAt))}`);
    const total = session.statementCount ?? shown.length;
    if (!options.follow && shown.length < total) print(`(${shown.length} of ${total} statements shown; --limit 0 shows all, or use sessions export)`);
  }
  if (!options.follow) return;
  if (session.endedAt) {
    if (!options.json) warn(`session ${session.id} has ended; nothing to follow`);
    return;
  }
  await follow(command, session.id, statements.at(-1)?.chainSeq ?? 0, session.startedAt, options.json === true);
}

export function registerSessions(program: Command): void {
  const sessions = withApiOptions(program.command('sessions'))
    .description('list client sessions, newest first (filters combine)')
    .option('--grant <grant>', 'only sessions of this grant')
    .option('--resource <resource>', 'only sessions on this resource')
    .option('--user <name>', 'only sessions of this requester (auditors; others always see their own)')
    .option('--since <when>', 'only sessions started at or after this (a timestamp, or a duration back from now like 2h)', (value: string) => sinceTimestamp(value))
    .option('--until <when>', 'only sessions started before this (a timestamp, or a duration back from now)', (value: string) => sinceTimestamp(value))
    .option('--active', 'only sessions still open')
    .option('--limit <n>', 'at most this many sessions (0 for all)', countArgument, 100)
    .option('--json', 'print the sessions as JSON')
    .action(async (options: ListOptions, command: Command) => {
      const list = await listAll(command, options);
      if (options.json) printJson(list);
      else if (list.length === 0) print('no sessions');
      else print(renderTable(SESSION_COLUMNS, sessionRows(list, new Date())));
    });

  withApiOptions(sessions.command('show'))
    .description('one session: its grant and its statement timeline')
    .argument('<session>', 'session id (s_…)')
    .option('--json', 'print the session as JSON (with --follow: then one JSON line per new statement)')
    .option('--follow', 'keep printing statements as they are recorded, until the session ends')
    .option('--limit <n>', 'at most this many statements (0 for all)', countArgument, 1_000)
    .action(async (id: string, options: ShowOptions, command: Command) => show(command, id, options));

  withApiOptions(sessions.command('export'))
    .description('the whole session with every statement, as JSON or CSV')
    .argument('<session>', 'session id (s_…)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--output <file>', 'write to this file (created 0600) instead of stdout')
    .action(async (id: string, options: { readonly format: string; readonly output?: string }, command: Command) => {
      const response = await openStream(command, pathOf(id, `/export?format=${options.format}`), options.format === 'csv' ? 'text/csv' : 'application/json');
      if (!response.body) throw new CliError('the server sent an empty export');
      const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      // Statement text is sensitive: an export file is readable by its owner only.
      await pipeline(source, options.output === undefined ? process.stdout : createWriteStream(options.output, { mode: 0o600 }), { end: options.output !== undefined });
    });
}
