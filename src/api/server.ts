// The HTTP API (fastify): bearer auth on /v1, one error shape, latency metrics, /livez, /readyz, /healthz and /metrics.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GrantService } from '../access/grant-service.js';
import type { AuditLog } from '../audit/events.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { HostPort } from '../net/address.js';
import { bearerOf, type Authenticator } from './auth.js';
import { errorBody, makeErrorHandler } from './errors.js';
import { registerHealthRoutes } from './health-routes.js';
import type { HealthReport } from './health.js';
import type { ApiMetrics } from './metrics.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerGrantRoutes } from './routes/grants.js';
import { registerResourceRoutes } from './routes/resources.js';
import { registerReview } from './routes/review.js';
import type { LiveSessions } from './routes/session-review.js';

export interface ApiDeps {
  readonly config: Config;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly grants: GrantService;
  readonly authenticator: Authenticator;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  /** The wire listener a grant's client connects to (the bound address, also when the config asked for port 0). */
  readonly endpointFor: (protocol: 'postgres' | 'mysql') => HostPort;
  /** Dependency states from background probes (store, audit, brokers): /readyz and /healthz never wait on a dependency. */
  readonly health: HealthReport;
  /** Live sessions of this process: the review API and UI follow and end them. */
  readonly sessions: LiveSessions;
}

export function buildApiServer(deps: ApiDeps): FastifyInstance {
  // Fastify's own request logging is off: the access log would carry headers, and it adds nothing metrics lack.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, return503OnClosing: true });

  app.decorateRequest('identity', undefined);
  app.setErrorHandler(makeErrorHandler(deps.logger));
  app.setNotFoundHandler((request, reply) => reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)));

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    const bearer = bearerOf(request);
    const identity = bearer === undefined ? undefined : deps.authenticator.authenticate(bearer);
    if (!identity) {
      return reply.status(401).header('www-authenticate', 'Bearer').send(errorBody('unauthorized', 'missing or invalid API key'));
    }
    request.identity = identity;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  registerHealthRoutes(app, deps.health);

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });

  registerGrantRoutes(app, deps.config, deps.grants, deps.endpointFor);
  registerResourceRoutes(app, deps.config);
  registerReview(app, { ...deps, flushAudit: () => deps.audit.flush() });
  registerAuditRoutes(app, deps.store, () => deps.audit.flush());
  return app;
}
