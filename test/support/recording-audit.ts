// An AuditLog that keeps events in an array, for unit tests of producers (the lease manager): no chain, no sinks.
import type { AuditEvent, AuditEventInput, AuditLog, RecordedStatement } from '../../src/audit/events.js';

export class RecordingAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  accepting = (): boolean => true;

  emit(event: AuditEventInput): Promise<void> {
    this.events.push({ id: `e_${this.events.length}`, ts: new Date().toISOString(), ...event } as AuditEvent);
    return Promise.resolve();
  }

  /** A recorded statement, kept as the event its body holds. */
  appendStatement(statement: RecordedStatement): Promise<void> {
    this.events.push(JSON.parse(statement.body) as AuditEvent);
    return Promise.resolve();
  }

  ofType<T extends AuditEvent['type']>(type: T): Extract<AuditEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<AuditEvent, { type: T }> => event.type === type);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
