// /v1/sessions: recorded client sessions and their statement timelines. Auditors and admins see all; a requester
// sees the sessions of their own grants.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound } from '../../access/errors.js';
import { isAuditor } from '../../access/identity.js';
import { isSessionId } from '../../access/ids.js';
import type { Store } from '../../store/store.js';
import { callerOf } from '../auth.js';
import { parse } from '../parse.js';
import { sessionView } from '../views.js';

const listQuery = z.object({
  grant: z.string().max(64).optional(),
  resource: z.string().max(128).optional(),
  user: z.string().max(128).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

const detailQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5_000).default(500),
});

export function registerSessionRoutes(app: FastifyInstance, store: Store): void {
  app.get('/v1/sessions', async (request) => {
    const caller = callerOf(request);
    const query = parse(listQuery, request.query, 'query');
    const user = isAuditor(caller) ? query.user : caller.name;
    const sessions = await store.listSessions({
      ...(query.grant !== undefined ? { grantId: query.grant } : {}),
      ...(query.resource !== undefined ? { resource: query.resource } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(query.since !== undefined ? { since: new Date(query.since) } : {}),
      limit: query.limit,
    });
    return { sessions: sessions.map(sessionView) };
  });

  app.get('/v1/sessions/:id', async (request) => {
    const caller = callerOf(request);
    const { id } = parse(z.object({ id: z.string().max(64) }), request.params, 'path');
    const query = parse(detailQuery, request.query, 'query');
    const session = isSessionId(id) ? await store.getSession(id) : undefined;
    if (!session || (!isAuditor(caller) && session.user !== caller.name)) throw notFound(`no session ${id}`);
    const events = await store.readSessionEvents(session.id, query.after, query.limit);
    const statements = events.filter((event) => event.type === 'statement').map((event) => ({ seq: event.seq, ...(JSON.parse(event.body) as object) }));
    const last = events.at(-1);
    return { ...sessionView(session), statements, next: events.length === query.limit && last ? last.seq : null };
  });
}
