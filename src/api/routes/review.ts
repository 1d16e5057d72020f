// Review (issue 8) in one registration: the /v1 session and statement routes and the /ui web UI share one
// SessionReview (queries and role checks) and one SessionStreams (live SSE, closed before the server closes).
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GrantService } from '../../access/grant-service.js';
import type { Store } from '../../store/store.js';
import type { Authenticator } from '../auth.js';
import { registerUi } from '../ui/plugin.js';
import { SessionReview, type LiveSessions } from './session-review.js';
import { SessionStreams } from './session-stream.js';
import { registerSessionRoutes } from './sessions.js';
import { registerStatementRoutes } from './statements.js';

export interface ReviewDeps {
  readonly store: Store;
  readonly grants: GrantService;
  readonly authenticator: Authenticator;
  readonly sessions: LiveSessions;
  readonly logger: Logger;
  readonly flushAudit: () => Promise<void>;
}

export function registerReview(app: FastifyInstance, deps: ReviewDeps): void {
  const review = new SessionReview(deps.store, deps.sessions);
  const streams = new SessionStreams(deps.store);
  // Open event streams never finish on their own; without this, closing the server would wait for them forever.
  app.addHook('preClose', async () => streams.closeAll());
  registerSessionRoutes(app, deps.store, review, streams);
  registerStatementRoutes(app, review);
  registerUi(app, { ...deps, review, streams });
}
