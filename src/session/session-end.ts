// What every engine does when a session starts and when it is over: the session row (written without holding up the
// login), and at the end forget the session, record `session.ended` and the row's end, and tell the lease manager how
// many sessions of the grant remain (teardown on_disconnect counts them).
import type { Logger } from 'pino';
import type { AuditEventInput, AuditLog } from '../audit/events.js';
import type { LeaseSource, SessionRecords } from './session-deps.js';
import type { SessionRecord } from '../store/store.js';
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

/** The insert of each live session's row, so the end's update never overtakes it (a pooled store may reorder). */
const rowsWritten = new WeakMap<Session, Promise<void>>();

/**
 * Starts writing the session's row and returns at once: the row is for review listings, and the login does not wait
 * for a store round trip (a SQLite store sends it with the next audit batch). The chain has `session.started`
 * either way; a failed insert is logged, and the end's update still runs after it.
 */
export function recordSessionStart(deps: Pick<SessionEndDeps, 'logger' | 'sessionRecords'>, session: Session, row: SessionRecord): void {
  rowsWritten.set(session, deps.sessionRecords.insertSession(row).catch((error: unknown) => {
    deps.logger.error({ err: error, session: session.id }, 'could not record the start of a session');
  }));
}

export async function recordSessionEnd(deps: SessionEndDeps, session: Session, statements: number, startedMs: number): Promise<void> {
  deps.sessions.remove(session);
  const reason = describeEndReason(session.endReason ?? { kind: 'client_closed' });
  // The event first, synchronously: at shutdown the audit log closes soon after the sockets do.
  emitSafely(deps.audit, deps.logger, { type: 'session.ended', session: session.id, grant: session.grant.id, reason,
    bytesIn: session.bytesIn, bytesOut: session.bytesOut, statements, durationMs: Date.now() - startedMs });
  deps.leases.released(session.grant, deps.sessions.sessionsOf(session.grant.id).length);
  await rowsWritten.get(session);
  try {
    await deps.sessionRecords.updateSession(session.id, { endedAt: new Date(), endReason: reason, bytesIn: session.bytesIn, bytesOut: session.bytesOut, statements });
  } catch (error) {
    deps.logger.error({ err: error, session: session.id }, 'could not record the end of a session');
  }
}
