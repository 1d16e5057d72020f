// Every refusal or warning the proxy itself sends, by intent (STYLE rule 7). Engines call these and never write a
// SQLSTATE literal; `fieldsForWireError` is the one place a codec failure becomes what the client sees.
// Choices where DESIGN.md leaves room (also in the report to the reviewer):
// - unknown grant and wrong token are the same 28P01 with the server's own wording (DESIGN §3), after a full SCRAM
//   exchange against a mock secret, so the bytes cannot tell them apart;
// - a wrong database is 28000, not the server's 3D000: only a client that proved the token learns it (DESIGN §3),
//   and the database does exist, it is just not this grant's;
// - audit unavailable is 58000 system_error: class 58 is "errors external to PostgreSQL itself", which a failing
//   audit sink is, and it cannot be mistaken for the upstream's own resource errors (class 53);
// - the expiry warning is a NoticeResponse with severity WARNING and 01000 (the server pairs 01000 with WARNING).
import type { WireFormatError } from '../shared/wire-format-error.js';
import type { ErrorFields, ErrorSeverity, NoticeSeverity } from './backend-error.js';
import { StartupPacketError } from './startup.js';

/** The SQLSTATEs jitgate sends (Appendix A of the PostgreSQL docs), by the condition names used there. */
export const SqlState = {
  warning: '01000',
  connectionFailure: '08006',
  sqlserverRejectedEstablishmentOfSqlconnection: '08004',
  protocolViolation: '08P01',
  featureNotSupported: '0A000',
  invalidAuthorizationSpecification: '28000',
  invalidPassword: '28P01',
  tooManyConnections: '53300',
  adminShutdown: '57P01',
  queryCanceled: '57014',
  systemError: '58000',
} as const;
export type SqlState = (typeof SqlState)[keyof typeof SqlState];

type Fatal = ErrorFields<'FATAL'>;

const fatal = (code: SqlState, message: string, extra: { detail?: string; hint?: string } = {}): Fatal =>
  ({ severity: 'FATAL', code, message, ...extra });

export const pgError = {
  /** Wrong token and unknown grant alike: byte-identical on purpose. */
  invalidPassword: (user: string): Fatal =>
    fatal(SqlState.invalidPassword, `password authentication failed for user "${user}"`),

  /** After the client proved the token: says why it still may not in (grant pending, ended, …). */
  accessDenied: (message: string): Fatal => fatal(SqlState.invalidAuthorizationSpecification, message),

  grantPending: (grant: string): Fatal =>
    fatal(SqlState.invalidAuthorizationSpecification, `grant ${grant} is pending approval`),

  grantEnded: (grant: string, reason: 'expired' | 'revoked' | 'cancelled' | 'denied'): Fatal =>
    fatal(SqlState.invalidAuthorizationSpecification, `grant ${grant} is ${reason}`),

  /** A database other than the resource's: 28000 after proof (see the header comment). */
  invalidDatabase: (requested: string, resourceDatabase?: string): Fatal =>
    fatal(SqlState.invalidAuthorizationSpecification, `database "${requested}" is not allowed for this grant`,
      resourceDatabase === undefined ? {} : { detail: `The grant's resource serves database "${resourceDatabase}".` }),

  grantExpired: (grant: string): Fatal => fatal(SqlState.adminShutdown, `grant ${grant} expired`),

  grantRevoked: (grant: string): Fatal => fatal(SqlState.adminShutdown, `grant ${grant} revoked`),

  /** jitgate is shutting down; the server's own wording for the same event. */
  adminShutdown: (): Fatal => fatal(SqlState.adminShutdown, 'terminating connection due to administrator command'),

  protocolViolation: (message: string): Fatal => fatal(SqlState.protocolViolation, message),

  /** `tls.require` and a plaintext client (DESIGN §3: 08004-style). */
  tlsRequired: (): Fatal =>
    fatal(SqlState.sqlserverRejectedEstablishmentOfSqlconnection, 'jitgate requires TLS for this connection',
      { hint: 'Connect with sslmode=require or sslmode=verify-full.' }),

  /** Replication connections, GSSAPI and the like; FATAL by default since they are refused at startup. */
  featureNotSupported: (message: string, severity: ErrorSeverity = 'FATAL'): ErrorFields<ErrorSeverity> =>
    ({ severity, code: SqlState.featureNotSupported, message }),

  /** The server's own wording. */
  tooManyConnections: (): Fatal => fatal(SqlState.tooManyConnections, 'sorry, too many clients already'),

  /** `audit.on_failure: block` while the sink fails: the statement is refused, the session may go on. */
  auditUnavailable: (severity: ErrorSeverity = 'ERROR'): ErrorFields<ErrorSeverity> => ({
    severity, code: SqlState.systemError, message: 'statement refused: the audit trail is unavailable',
    hint: 'jitgate records every statement before running it; retry when the audit sink has recovered.',
  }),

  upstreamUnavailable: (message: string): Fatal => fatal(SqlState.connectionFailure, message),

  /** The server's own wording for a cancelled statement. */
  queryCanceled: (): ErrorFields<'ERROR'> =>
    ({ severity: 'ERROR', code: SqlState.queryCanceled, message: 'canceling statement due to user request' }),
} as const;

export const pgNotice = {
  /** Sent to an idle client `warn_before` ahead of the end (DESIGN §4). */
  expiryWarning: (grant: string, seconds: number): ErrorFields<NoticeSeverity> =>
    ({ severity: 'WARNING', code: SqlState.warning, message: `grant ${grant} expires in ${Math.max(0, Math.round(seconds))}s` }),
} as const;

/**
 * The one mapping from a codec failure to the client's FATAL: startup refusals keep the server's codes (0A000 for an
 * unsupported protocol version, 28000 for a missing user), everything else is 08P01.
 */
export function fieldsForWireError(error: WireFormatError): Fatal {
  if (error instanceof StartupPacketError) {
    switch (error.reason) {
      case 'unsupported_protocol_version': return fatal(SqlState.featureNotSupported, error.message);
      case 'missing_user': return fatal(SqlState.invalidAuthorizationSpecification, error.message);
      case 'invalid_length':
      case 'incomplete':
      case 'invalid_layout':
      case 'duplicate_parameter':
        return fatal(SqlState.protocolViolation, error.message);
    }
  }
  return fatal(SqlState.protocolViolation, error.message);
}

/**
 * How a refused startup packet is answered, as PostgreSQL answers it (backend_startup.c ProcessStartupPacket):
 * - `nothing`: a declared length out of bounds or a packet cut short is only logged (COMMERROR) and the connection
 *   closed without a byte, since a peer that cannot frame a startup packet cannot be expected to read a reply — this
 *   is what node-postgres meets when it sends Terminate before its startup packet, and it expects the silence;
 * - `fatal`: every other refusal is a FATAL ErrorResponse with the server's code;
 * - `fatal_v2`: the same, in protocol 2.0's framing, to a client that asked for a protocol older than 3.0 (the server
 *   formats its errors for the version the client asked for).
 * `fields` carries the SQLSTATE either way, for the audit event.
 */
export function startupRefusal(error: WireFormatError): { readonly fields: Fatal; readonly send: 'nothing' | 'fatal' | 'fatal_v2' } {
  const fields = fieldsForWireError(error);
  if (!(error instanceof StartupPacketError)) return { fields, send: 'fatal' };
  switch (error.reason) {
    case 'invalid_length':
    case 'incomplete':
      return { fields, send: 'nothing' };
    case 'unsupported_protocol_version':
      return { fields, send: (error.majorVersion ?? 3) < 3 ? 'fatal_v2' : 'fatal' };
    case 'invalid_layout':
    case 'duplicate_parameter':
    case 'missing_user':
      return { fields, send: 'fatal' };
  }
}
