// Audit events (DESIGN §6): one discriminated union; every producer builds one of these, the chain and the sinks
// treat them uniformly. Field names are what stored events and the JSON-lines stream carry.

export type StatementKind =
  | 'query' | 'prepare' | 'bind_execute' | 'execute' | 'copy_in' | 'copy_out' | 'function_call'
  | 'stmt_prepare' | 'stmt_execute' | 'init_db';

interface EventBase {
  /** `e_` + 20 base32 chars; assigned by the audit log when not given. */
  readonly id: string;
  readonly ts: string;
  readonly grant?: string;
  readonly session?: string;
  readonly actor?: string;
}

export type AuditEvent =
  | (EventBase & { readonly type: 'grant.requested'; readonly grant: string; readonly actor: string; readonly resource: string;
      readonly role: string; readonly reason: string; readonly ttlSeconds: number; readonly policy: string; readonly state: string })
  | (EventBase & { readonly type: 'grant.approved'; readonly grant: string; readonly actor: string; readonly comment: string;
      readonly approvals: number; readonly required: number; readonly expiresAt?: string })
  | (EventBase & { readonly type: 'grant.denied'; readonly grant: string; readonly actor: string; readonly comment: string })
  | (EventBase & { readonly type: 'grant.revoked'; readonly grant: string; readonly actor: string; readonly endReason: 'revoked' | 'cancelled' })
  | (EventBase & { readonly type: 'grant.expired'; readonly grant: string; readonly expiresAt: string; readonly previousState: string })
  | (EventBase & { readonly type: 'credential.issued'; readonly grant: string; readonly resource: string; readonly role: string;
      readonly broker: string; readonly username: string; readonly leaseId: string; readonly expiresAt: string })
  | (EventBase & { readonly type: 'credential.revoked'; readonly grant: string; readonly resource: string; readonly username: string;
      readonly leaseId: string; readonly verified: boolean })
  | (EventBase & { readonly type: 'credential.revoke_failed'; readonly grant: string; readonly resource: string; readonly username: string;
      readonly leaseId: string; readonly attempt: number; readonly error: string; readonly nextAttemptAt?: string })
  | (EventBase & { readonly type: 'session.started'; readonly session: string; readonly grant: string; readonly resource: string;
      readonly protocol: 'postgres' | 'mysql'; readonly user: string; readonly client: string; readonly tls: boolean; readonly program?: string })
  | (EventBase & { readonly type: 'session.auth_failed'; readonly protocol: 'postgres' | 'mysql'; readonly client: string;
      readonly user: string; readonly reason: string; readonly code: string })
  | (EventBase & { readonly type: 'session.ended'; readonly session: string; readonly grant: string; readonly reason: string;
      readonly bytesIn: number; readonly bytesOut: number; readonly statements: number; readonly durationMs: number })
  | (EventBase & StatementFields & { readonly type: 'statement'; readonly session: string; readonly grant: string })
  | (EventBase & { readonly type: 'policy.blocked'; readonly reason: string; readonly detail?: string })
  | (EventBase & { readonly type: 'alert'; readonly severity: 'warning' | 'critical'; readonly message: string });

export interface StatementFields {
  readonly seq: number;
  readonly kind: StatementKind;
  readonly sql: string;
  /** Bind / COM_STMT_EXECUTE values as text (null for SQL NULL), per `audit.parameters`. */
  readonly params?: readonly (string | null)[];
  readonly statement_name?: string;
  readonly portal?: string;
  readonly started: string;
  readonly duration_us: number;
  readonly rows?: number;
  readonly tag?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly bytes?: number;
  /** Set when the SQL text was cut: its original length in bytes and SHA-256, so nothing is silently lost. */
  readonly truncated?: { readonly length: number; readonly sha256: string };
  /**
   * Set when the tap could not decode part of what the client sent (the server got the bytes as sent and answered
   * for itself): what could not be read, e.g. "Bind: 4464 parameter formats but 0 parameters".
   */
  readonly undecoded?: string;
}

export type AuditEventType = AuditEvent['type'];

/** What producers hand in: id and ts are filled by the audit log. */
export type AuditEventInput = AuditEvent extends infer E
  ? E extends AuditEvent ? Omit<E, 'id' | 'ts'> & { readonly id?: string; readonly ts?: string } : never
  : never;

/**
 * A statement event in its final form, built once by the session's recorder (statement-recorder.ts): `body` is its
 * canonical JSON with secrets already redacted, appended to the chain as it is.
 */
export interface RecordedStatement {
  readonly id: string;
  /** The event's `ts`, in milliseconds. */
  readonly tsMs: number;
  readonly grant: string;
  readonly session: string;
  readonly body: string;
}

/** The audit trail as producers see it: engines, the grant service and brokers depend on this, not on sinks. */
export interface AuditLog {
  /**
   * The statement path: appends a recorded statement without reshaping it (the generic `emit` completes, redacts and
   * serialises every other event). Resolves and rejects as `emit` does.
   */
  appendStatement(statement: RecordedStatement): Promise<void>;
  /**
   * Queues an event; resolves once every sink has it (durably, under `durability: fsync`). A failing sink never
   * makes it reject (the event waits in the queue); only emitting after close() rejects.
   */
  emit(event: AuditEventInput): Promise<void>;
  /** False while a sink is failing under `on_failure: block`: callers must refuse new statements. */
  accepting(): boolean;
  /** Resolves when everything queued so far has reached the sinks. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
