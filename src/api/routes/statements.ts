// /v1/statements?q=: text search over recorded SQL, across sessions (auditor/admin), newest first, paged by chain seq.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../auth.js';
import { parse } from '../parse.js';
import type { SessionReview } from './session-review.js';

export const statementSearchQuery = z.object({
  q: z.string().min(1, 'give the text to search for').max(1_000),
  session: z.string().max(64).optional(),
  grant: z.string().max(64).optional(),
  resource: z.string().max(128).optional(),
  user: z.string().max(128).optional(),
  cursor: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

export type StatementSearchParams = z.output<typeof statementSearchQuery>;

/** The query as the store takes it (shared with the web UI's search page). */
export function searchOf(query: StatementSearchParams) {
  return {
    text: query.q,
    ...(query.session ? { sessionId: query.session } : {}),
    ...(query.grant ? { grantId: query.grant } : {}),
    ...(query.resource ? { resource: query.resource } : {}),
    ...(query.user ? { user: query.user } : {}),
    ...(query.cursor !== undefined ? { beforeSeq: query.cursor } : {}),
    limit: query.limit,
  };
}

export function registerStatementRoutes(app: FastifyInstance, review: SessionReview): void {
  app.get('/v1/statements', async (request) => {
    const caller = callerOf(request);
    const query = parse(statementSearchQuery, request.query, 'query');
    return review.search(caller, searchOf(query));
  });
}
