// /v1/resources: what may be requested, without hosts or admin credentials.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.js';
import { formatDuration } from '../../config/duration.js';
import { callerOf } from '../auth.js';

export function registerResourceRoutes(app: FastifyInstance, config: Config): void {
  app.get('/v1/resources', async (request) => {
    callerOf(request);
    return {
      resources: config.resources.map((resource) => ({
        name: resource.name,
        protocol: resource.protocol,
        database: resource.database,
        roles: Object.entries(resource.roles).map(([name, role]) => ({ name, max_ttl: formatDuration(role.max_ttl) })),
      })),
    };
  });
}
