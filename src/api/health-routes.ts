// /livez, /readyz and /healthz (no auth). Which one to point what at (README "Health checks"):
// - /livez: the process serves HTTP. Answers at once and never looks at a dependency, so a Vault or store outage
//   never makes an orchestrator restart jitgate (and cut every live session).
// - /readyz: every dependency answered its last background probe; 503 names the ones that did not, and why.
// - /healthz: the summary for people and monitors (`{status, store, audit, vault?}`), 503 unless all are `ok`;
//   it may wait briefly for a fresh probe round, never longer than HEALTHZ_REFRESH_WAIT_MS.
import type { FastifyInstance } from 'fastify';
import type { DependencyState, HealthReport } from './health.js';

/** /healthz waits at most this long for a new probe round, then answers from the last results (issue 19: < 1 s). */
export const HEALTHZ_REFRESH_WAIT_MS = 500;

const isOk = (state: DependencyState): boolean => state.status === 'ok';

export function registerHealthRoutes(app: FastifyInstance, health: HealthReport): void {
  app.get('/livez', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const states = [...health.states()];
    const notReady = states.filter(([, state]) => !isOk(state)).map(([name]) => name);
    const checks = Object.fromEntries(states.map(([name, state]) => [name, {
      status: state.status, detail: state.detail, checkedAt: state.checkedAt?.toISOString() ?? null,
    }]));
    const ready = notReady.length === 0;
    return reply.status(ready ? 200 : 503).header('cache-control', 'no-store')
      .send(ready ? { status: 'ready', checks } : { status: 'not_ready', notReady, checks });
  });

  app.get('/healthz', async (_request, reply) => {
    await health.refresh(HEALTHZ_REFRESH_WAIT_MS);
    const states = [...health.states()];
    const healthy = states.every(([, state]) => isOk(state));
    const words = Object.fromEntries(states.map(([name, state]) => [name, state.status]));
    const details = Object.fromEntries(states.filter(([, state]) => !isOk(state)).map(([name, state]) => [name, state.detail]));
    return reply.status(healthy ? 200 : 503).header('cache-control', 'no-store')
      .send({ status: healthy ? 'ok' : 'degraded', ...words, ...(healthy ? {} : { details }) });
  });
}
