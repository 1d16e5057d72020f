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

type StatementInput = Extract<AuditEventInput, { type: 'statement' }>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class SessionStatementRecorder implements StatementRecorder {
  readonly wantsParameters: boolean;
  private seq = 0;
  private lastWritten: Promise<void> | undefined;

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
    // Member by member, not by spreading `fields`: this runs per statement, and only known members may pass.
    const event: Mutable<StatementInput> = {
      type: 'statement', session: this.options.session, grant: this.options.grant, seq: ++this.seq, kind: fields.kind,
      sql: text.sql, started: fields.started, duration_us: fields.duration_us,
    };
    if (fields.statement_name !== undefined) event.statement_name = fields.statement_name;
    if (fields.portal !== undefined) event.portal = fields.portal;
    if (fields.rows !== undefined) event.rows = fields.rows;
    if (fields.tag !== undefined) event.tag = fields.tag;
    if (fields.error !== undefined) event.error = fields.error;
    if (fields.bytes !== undefined) event.bytes = fields.bytes;
    const truncated = text.truncated ?? fields.truncated;
    if (truncated !== undefined) event.truncated = truncated;
    if (fields.undecoded !== undefined) event.undecoded = fields.undecoded;
    if (fields.params !== undefined && parameters !== 'omit') {
      event.params = parameters === 'full' ? fields.params : fields.params.map((value) => (value === null ? null : REDACTED_PARAM));
    }
    const written = this.options.audit.emit(event);
    // Events of one batch share its promise: one loss handler per batch, not one derived promise per statement.
    if (written !== this.lastWritten) {
      this.lastWritten = written;
      written.catch((error: unknown) => this.options.onLost?.(error));
    }
    this.options.onRecorded?.(written);
  }
}
