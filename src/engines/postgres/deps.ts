// What the Postgres engine needs from the rest of jitgate: the session core's collaborators (src/session/session-deps.ts)
// and its own limits, filled in by main.ts (STYLE: engines never pick their own brokers, sinks or store).
import type { SessionCoreDeps } from '../../session/session-deps.js';

export interface PostgresEngineDeps extends SessionCoreDeps {
  /** The largest client message accepted (`limits.max_message_bytes`). */
  readonly maxMessageBytes: number;
}
