// What every engine does when a session is over: forget it, record `session.ended` and the session row, and tell the
// lease manager how many sessions of the grant remain (teardown on_disconnect counts them).
import type { Logger } from 'pino';
import type { AuditEventInput, AuditLog } from '../audit/events.js';
import type { LeaseSource, SessionRecords } from '../engines/postgres/deps.js';
import type { SessionRegistry } from './registry.js';
import { describeEndReason, type Session } from './session.js';

export interface SessionEndDeps {
  readonly sessions: SessionRegistry;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly leases: LeaseSource;
  readonly sessionRecords: SessionRecords;
}

/** Emits without awaiting; an emit after the audit log closed (shutdown) is logged, never an unhandled rejection. */
export function emitSafely(audit: AuditLog, logger: Logger, event: AuditEventInput): void {
  audit.emit(event).catch((error: unknown) => {
    logger.error({ err: error, event: event.type }, 'audit event not recorded: the audit log is already closed');
  });
}

export async function recordSessionEnd(deps: SessionEndDeps, session: Session, statements: number, startedMs: number): Promise<void> {
  deps.sessions.remove(session);
  const reason = describeEndReason(session.endReason ?? { kind: 'client_closed' });
  // The event first, synchronously: at shutdown the audit log closes soon after the sockets do.
  emitSafely(deps.audit, deps.logger, { type: 'session.ended', session: session.id, grant: session.grant.id, reason,
    bytesIn: session.bytesIn, bytesOut: session.bytesOut, statements, durationMs: Date.now() - startedMs });
  deps.leases.released(session.grant, deps.sessions.sessionsOf(session.grant.id).length);
  try {
    await deps.sessionRecords.updateSession(session.id, { endedAt: new Date(), endReason: reason, bytesIn: session.bytesIn, bytesOut: session.bytesOut, statements });
  } catch (error) {
    deps.logger.error({ err: error, session: session.id }, 'could not record the end of a session');
  }
}
