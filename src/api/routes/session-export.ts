// A whole session as one download, JSON or CSV: the session, its grant and every statement, read from the store a
// page at a time and streamed, so a session of 100k statements never sits in memory as one string.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Grant } from '../../access/grant.js';
import type { SessionRecord, Store } from '../../store/store.js';
import { grantView, sessionView } from '../views.js';
import { offsetMs, statementView, type StatementView } from './statement-view.js';

export type ExportFormat = 'json' | 'csv';

const PAGE = 1_000;

export const CSV_COLUMNS = [
  'session', 'seq', 'chain_seq', 'started', 'offset_ms', 'duration_us', 'kind', 'rows', 'tag', 'error_code', 'error_message',
  'bytes', 'statement_name', 'portal', 'sql_truncated_from', 'sql', 'params',
] as const;

/** RFC 4180: a cell with a quote, comma or line break is quoted, quotes doubled. Values are written as recorded. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(session: SessionRecord, statement: StatementView): string {
  return [
    session.id, statement.seq, statement.chainSeq, statement.started, offsetMs(statement, session.startedAt), statement.duration_us,
    statement.kind, statement.rows, statement.tag, statement.error?.code, statement.error?.message, statement.bytes,
    statement.statement_name, statement.portal, statement.truncated?.length, statement.sql,
    statement.params === undefined ? undefined : JSON.stringify(statement.params),
  ].map(csvCell).join(',');
}

async function* statementPages(store: Pick<Store, 'readSessionStatements'>, session: SessionRecord): AsyncGenerator<StatementView[]> {
  let after = 0;
  for (;;) {
    const events = await store.readSessionStatements(session.id, { afterSeq: after, limit: PAGE });
    if (events.length > 0) yield events.map(statementView);
    const last = events.at(-1);
    if (!last || events.length < PAGE) return;
    after = last.seq;
  }
}

export async function* exportChunks(store: Pick<Store, 'readSessionStatements'>, session: SessionRecord, grant: Grant | undefined,
  format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') {
    yield `${CSV_COLUMNS.join(',')}\r\n`;
    for await (const page of statementPages(store, session)) yield page.map((statement) => `${csvRow(session, statement)}\r\n`).join('');
    return;
  }
  const head = { session: sessionView(session), grant: grant ? grantView(grant) : null };
  yield `${JSON.stringify(head).slice(0, -1)},"statements":[`;
  let first = true;
  for await (const page of statementPages(store, session)) {
    yield page.map((statement) => {
      const text = `${first ? '' : ','}\n${JSON.stringify(statement)}`;
      first = false;
      return text;
    }).join('');
  }
  yield '\n]}\n';
}

/** Sends the export as an attachment named after the session. */
export function sendExport(reply: FastifyReply, store: Pick<Store, 'readSessionStatements'>, session: SessionRecord,
  grant: Grant | undefined, format: ExportFormat): FastifyReply {
  return reply
    .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="${session.id}.${format}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(exportChunks(store, session, grant, format)));
}
