// What both taps hand the audit trail for each statement: one statement from request to reply, as the tap tracks it
// (rows and bytes counted as the reply streams by), and the server's outcome. The recorder (statement-recorder.ts)
// turns the pair into the canonical event once; nothing in between reshapes it.
import type { StatementFields, StatementKind } from './events.js';
import { isoAtMonotonic } from './iso-time.js';

export class StatementInFlight {
  rows = 0;
  bytes = 0;

  /**
   * @param startedAt performance.now() when the client asked (or, for the next statement of a multi-statement
   *   request, when the previous one ended).
   * @param statementName / portal: as the protocol names them; null where it has none ('' is the unnamed one).
   * @param undecoded what the tap could not decode of the request (the server got it as sent).
   */
  constructor(
    public kind: StatementKind,
    readonly sql: string,
    readonly startedAt: number = performance.now(),
    readonly params: readonly (string | null)[] | null = null,
    readonly statementName: string | null = null,
    readonly portal: string | null = null,
    readonly undecoded: string | null = null,
  ) {}
}

export interface StatementOutcome {
  /** The server's command tag ('' when it gave none); ignored with `error`. */
  readonly tag?: string;
  /** Rows affected or returned; the rows counted in flight when absent. */
  readonly rows?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * The statement fields of `statement` and `outcome` as plain members, before the recorder's policy (numbering,
 * `audit.parameters`, redaction, the size cap): what tests of a tap compare.
 */
export function statementFields(statement: StatementInFlight, outcome: StatementOutcome, nowMs = performance.now()): Omit<StatementFields, 'seq'> {
  return {
    kind: statement.kind,
    sql: statement.sql,
    ...(statement.params !== null && statement.params.length > 0 ? { params: statement.params } : {}),
    ...(statement.statementName !== null ? { statement_name: statement.statementName } : {}),
    ...(statement.portal !== null ? { portal: statement.portal } : {}),
    started: isoAtMonotonic(statement.startedAt),
    duration_us: Math.round((nowMs - statement.startedAt) * 1000),
    ...(outcome.error ? { error: outcome.error } : { tag: outcome.tag ?? '', rows: outcome.rows ?? statement.rows }),
    bytes: statement.bytes,
    ...(statement.undecoded !== null ? { undecoded: statement.undecoded } : {}),
  };
}
