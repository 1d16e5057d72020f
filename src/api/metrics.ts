// Prometheus metrics: grants by state (read from the store at scrape time) and API latency.
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/store.js';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry, prefix: 'jitgate_' });
    this.requestDuration = new Histogram({
      name: 'jitgate_api_request_duration_seconds',
      help: 'HTTP API request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    new Gauge({
      name: 'jitgate_grants',
      help: 'Grants by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const counts = await store.countGrantsByState();
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
  }
}
