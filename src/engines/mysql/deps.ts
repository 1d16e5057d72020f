// What the MySQL engine needs from the rest of jitgate: the same narrow interfaces as the Postgres engine.
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { AuditLog } from '../../audit/events.js';
import type { ParametersMode } from '../../audit/statement-recorder.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { SessionRegistry } from '../../session/registry.js';
import type { GrantDirectory, LeaseSource, SessionRecords } from '../postgres/deps.js';

export type { GrantDirectory, LeaseSource, SessionRecords };

export interface MysqlEngineDeps {
  readonly grants: GrantDirectory;
  readonly leases: LeaseSource;
  readonly audit: AuditLog;
  readonly sessions: SessionRegistry;
  readonly sessionRecords: SessionRecords;
  readonly resources: (name: string) => ResourceConfig | undefined;
  /** The MySQL resources, probed at start for the version and capabilities the greeting announces. */
  readonly mysqlResources: readonly ResourceConfig[];
  readonly logger: Logger;
  readonly shutdown: AbortSignal;
  readonly tls: { readonly context: SecureContext | undefined; readonly require: boolean };
  readonly maxPacketBytes: number;
  readonly maxAuditSqlBytes: number;
  readonly parameters: ParametersMode;
  /** `audit.durability: fsync`: a statement's result reaches the client only once its event is delivered. */
  readonly holdRepliesForAudit?: boolean;
  readonly mockSecretKey: Uint8Array;
}
