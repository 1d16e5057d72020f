// Turns what an engine's tap saw into `statement` audit events for one session: numbering, the `audit.parameters`
// mode, secret and size handling of the SQL text. Engines only describe statements; policy lives here.
import type { AuditEventInput, AuditLog, StatementFields } from './events.js';
import { redactLiterals } from './literal-redaction.js';
import { auditSqlText } from './statement-text.js';
import type { SqlDialect } from './sql-scan.js';

export type ParametersMode = 'full' | 'redact' | 'omit';

export interface StatementRecorder {
  /** False under `omit`: the tap can skip decoding parameter values altogether. */
  readonly wantsParameters: boolean;
  record(fields: Omit<StatementFields, 'seq'>): void;
}

export interface SessionStatementRecorderOptions {
  readonly audit: AuditLog;
  readonly session: string;
  readonly grant: string;
  readonly dialect: SqlDialect;
  readonly parameters: ParametersMode;
  readonly maxSqlBytes?: number;
  /** Called with each event's emit promise, so the engine can wait for durability or count statements. */
  readonly onRecorded?: (written: Promise<void>) => void;
  /** Called when an event could not be queued (emit after the audit log closed, at shutdown); never an unhandled rejection. */
  readonly onLost?: (error: unknown) => void;
}

const REDACTED_PARAM = '?';

export class SessionStatementRecorder implements StatementRecorder {
  readonly wantsParameters: boolean;
  private seq = 0;

  constructor(private readonly options: SessionStatementRecorderOptions) {
    this.wantsParameters = options.parameters === 'full';
  }

  get count(): number {
    return this.seq;
  }

  record(fields: Omit<StatementFields, 'seq'>): void {
    const { parameters, dialect } = this.options;
    const source = parameters === 'redact' ? redactLiterals(fields.sql, dialect) : fields.sql;
    const text = auditSqlText(source, dialect, this.options.maxSqlBytes);
    const { params, ...rest } = fields;
    const event: AuditEventInput = {
      type: 'statement',
      session: this.options.session,
      grant: this.options.grant,
      ...rest,
      seq: ++this.seq,
      sql: text.sql,
      ...(text.truncated ? { truncated: text.truncated } : {}),
      ...(params !== undefined && parameters === 'full' ? { params } : {}),
      ...(params !== undefined && parameters === 'redact' ? { params: params.map((value) => (value === null ? null : REDACTED_PARAM)) } : {}),
    };
    const written = this.options.audit.emit(event);
    written.catch((error: unknown) => this.options.onLost?.(error));
    this.options.onRecorded?.(written);
  }
}
