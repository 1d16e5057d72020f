// Turns what a tap saw into `statement` audit events for one session, on the path every audited statement takes:
// numbering, the `audit.parameters` mode, secret redaction (once) and the size cap of the SQL text, and the event
// built once, in its canonical form — members in sorted order, so JSON.stringify gives exactly canonicalJson's bytes
// (test/unit/statement-body.test.ts holds it to that) — and handed to the audit log as its chained body. Taps only
// describe statements (statement-record.ts); policy lives here.
import { newAuditEventId } from '../access/ids.js';
import type { AuditLog, StatementFields } from './events.js';
import { isoAtMillis, isoAtMonotonic } from './iso-time.js';
import { redactLiterals } from './literal-redaction.js';
import type { StatementInFlight, StatementOutcome } from './statement-record.js';
import { auditSqlText } from './statement-text.js';
import type { SqlDialect } from './sql-scan.js';

export type ParametersMode = 'full' | 'redact' | 'omit';

export interface StatementRecorder {
  /** False under `omit`: the tap can skip decoding parameter values altogether. */
  readonly wantsParameters: boolean;
  record(statement: StatementInFlight, outcome: StatementOutcome): void;
}

export interface SessionStatementRecorderOptions {
  readonly audit: AuditLog;
  readonly session: string;
  readonly grant: string;
  readonly dialect: SqlDialect;
  readonly parameters: ParametersMode;
  readonly maxSqlBytes?: number;
  /** Called with each event's append promise, so the engine can wait for durability. */
  readonly onRecorded?: (written: Promise<void>) => void;
  /** Called when an event could not be queued (after the audit log closed, at shutdown); never an unhandled rejection. */
  readonly onLost?: (error: unknown) => void;
}

const REDACTED_PARAM = '?';

/** The statement event's members, assigned in canonical (sorted) order. */
type CanonicalStatement = { -readonly [K in keyof StatementFields]: StatementFields[K] } & {
  grant: string; id: string; session: string; ts: string; type: 'statement';
};

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

  record(statement: StatementInFlight, outcome: StatementOutcome): void {
    const { options } = this;
    const endedAt = performance.now();
    const nowMs = Date.now();
    // `redact` takes every literal, password ones included; otherwise only password literals go (auditSqlText).
    const text = options.parameters === 'redact'
      ? auditSqlText(redactLiterals(statement.sql, options.dialect), options.dialect, options.maxSqlBytes, false)
      : auditSqlText(statement.sql, options.dialect, options.maxSqlBytes);
    const id = newAuditEventId(nowMs);
    // Member by member in sorted order, each only when present: a statement is built once, and only known members pass.
    const event = { bytes: statement.bytes, duration_us: Math.round((endedAt - statement.startedAt) * 1000) } as CanonicalStatement;
    const { error } = outcome;
    if (error !== undefined) event.error = { code: error.code, message: error.message };
    event.grant = options.grant;
    event.id = id;
    event.kind = statement.kind;
    const { params } = statement;
    if (params !== null && params.length > 0 && options.parameters !== 'omit') {
      event.params = options.parameters === 'full' ? params : params.map((value) => (value === null ? null : REDACTED_PARAM));
    }
    if (statement.portal !== null) event.portal = statement.portal;
    if (error === undefined) event.rows = outcome.rows ?? statement.rows;
    event.seq = ++this.seq;
    event.session = options.session;
    event.sql = text.sql;
    event.started = isoAtMonotonic(statement.startedAt);
    if (statement.statementName !== null) event.statement_name = statement.statementName;
    if (error === undefined) event.tag = outcome.tag ?? '';
    if (text.truncated !== undefined) event.truncated = text.truncated;
    event.ts = isoAtMillis(nowMs);
    event.type = 'statement';
    if (statement.undecoded !== null) event.undecoded = statement.undecoded;
    const written = options.audit.appendStatement({ id, tsMs: nowMs, grant: options.grant, session: options.session, body: JSON.stringify(event) });
    // Events of one batch share its promise: one loss handler per batch, not one derived promise per statement.
    if (written !== this.lastWritten) {
      this.lastWritten = written;
      written.catch((lost: unknown) => options.onLost?.(lost));
    }
    options.onRecorded?.(written);
  }
}
