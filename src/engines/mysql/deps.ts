// What the MySQL engine needs from the rest of jitgate: the session core's collaborators (src/session/session-deps.ts)
// and its own limits, filled in by main.ts.
import type { ResourceConfig } from '../../config/schema.js';
import type { SessionCoreDeps } from '../../session/session-deps.js';

export interface MysqlEngineDeps extends SessionCoreDeps {
  /** The MySQL resources, probed at start for the version and capabilities the greeting announces. */
  readonly mysqlResources: readonly ResourceConfig[];
  /** The largest client payload accepted (`limits.max_message_bytes`). */
  readonly maxPacketBytes: number;
}
