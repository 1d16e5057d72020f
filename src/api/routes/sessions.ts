// /v1/sessions: recorded client sessions, their statement timelines, live streams, exports, and ending a live one.
// Auditors and admins see all; a requester sees the sessions of their own grants (docs/api.md).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { badRequest } from '../../access/errors.js';
import type { Store } from '../../store/store.js';
import { callerOf } from '../auth.js';
import { parse } from '../parse.js';
import { grantView } from '../views.js';
import { sendExport } from './session-export.js';
import { decodeSessionCursor, type SessionReview } from './session-review.js';
import { resumeSeq, type SessionStreams } from './session-stream.js';
import { statementView } from './statement-view.js';

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const isoTime = z.iso.datetime({ offset: true });

export const sessionListQuery = z.object({
  grant: z.string().max(64).optional(),
  resource: z.string().max(128).optional(),
  user: z.string().max(128).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  active: flag.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export type SessionListQuery = z.output<typeof sessionListQuery>;

const detailQuery = z.object({
  after: seq.optional(),
  before: seq.optional(),
  last: flag.optional(),
  errors: flag.optional(),
  limit: z.coerce.number().int().min(1).max(5_000).default(500),
});

const idParams = z.object({ id: z.string().max(64) });
const eventsQuery = z.object({ after: seq.optional() });
const exportQuery = z.object({ format: z.enum(['json', 'csv']).default('json') });

/** The list filters as the store takes them (shared with the web UI's filter form). */
export function sessionFilterOf(query: Omit<SessionListQuery, 'cursor' | 'limit'>) {
  return {
    ...(query.grant ? { grantId: query.grant } : {}),
    ...(query.resource ? { resource: query.resource } : {}),
    ...(query.user ? { user: query.user } : {}),
    ...(query.since ? { since: new Date(query.since) } : {}),
    ...(query.until ? { until: new Date(query.until) } : {}),
    ...(query.active !== undefined ? { active: query.active } : {}),
  };
}

export function cursorOf(text: string | undefined) {
  if (text === undefined || text === '') return undefined;
  const cursor = decodeSessionCursor(text);
  if (!cursor) throw badRequest('invalid query: cursor: not a cursor from a previous page');
  return cursor;
}

export function registerSessionRoutes(app: FastifyInstance, store: Store, review: SessionReview, streams: SessionStreams): void {
  app.get('/v1/sessions', async (request) => {
    const caller = callerOf(request);
    const query = parse(sessionListQuery, request.query, 'query');
    return review.list(caller, sessionFilterOf(query), query.limit, cursorOf(query.cursor));
  });

  app.get('/v1/sessions/:id', async (request) => {
    const caller = callerOf(request);
    const { id } = parse(idParams, request.params, 'path');
    const query = parse(detailQuery, request.query, 'query');
    if (query.after !== undefined && (query.before !== undefined || query.last)) throw badRequest('invalid query: give one of after, before, last');
    const session = await review.visible(caller, id);
    const [row, grant, page] = await Promise.all([
      review.row(session),
      store.getGrant(session.grantId),
      review.statements(session, {
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.before !== undefined ? { before: query.before } : {}),
        ...(query.last ? { last: true } : {}),
        ...(query.errors ? { errorsOnly: true } : {}),
        limit: query.limit,
      }),
    ]);
    // `row.statements` is the count: recorded at the end, or counted now for an open session.
    return { ...row, statementCount: row.statements, grantDetail: grant ? grantView(grant) : null, ...page };
  });

  app.post('/v1/sessions/:id/end', async (request, reply) => {
    const caller = callerOf(request);
    const { id } = parse(idParams, request.params, 'path');
    const session = await review.visible(caller, id);
    review.end(caller, session);
    return reply.status(202).send({ ...(await review.row(session)), ending: true });
  });

  app.get('/v1/sessions/:id/events', async (request, reply) => {
    const caller = callerOf(request);
    const { id } = parse(idParams, request.params, 'path');
    const { after } = parse(eventsQuery, request.query, 'query');
    const session = await review.visible(caller, id);
    const afterSeq = resumeSeq(request, after) ?? (await store.auditHead())?.seq ?? 0;
    streams.open(reply, session, {
      afterSeq,
      render: (event) => (event.type === 'statement'
        ? { event: 'statement', id: String(event.seq), data: JSON.stringify(statementView(event)) }
        : undefined),
    });
    return reply;
  });

  app.get('/v1/sessions/:id/export', async (request, reply) => {
    const caller = callerOf(request);
    const { id } = parse(idParams, request.params, 'path');
    const { format } = parse(exportQuery, request.query, 'query');
    const session = await review.visible(caller, id);
    return sendExport(reply, store, session, await store.getGrant(session.grantId), format);
  });
}
