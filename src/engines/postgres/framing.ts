// The Postgres half of a session's relay (src/net/relay-core.ts does the sockets): two frame scanners walk the bytes
// alongside the relay for the tap, decide what a client chunk asks for — a Terminate withheld so the server
// connection can be reused, a Query refused in place while the audit trail is down — and say the protocol's last
// words at the end (DESIGN §4 step 3: FATAL 57P01 naming the grant).
import { FrontendCode } from '../../../protocols/postgres/codes.js';
import { encodeErrorResponse } from '../../../protocols/postgres/backend-error.js';
import { encodeReadyForQuery } from '../../../protocols/postgres/backend-status.js';
import { FrameScanner, typeTable } from '../../../protocols/postgres/frame-scanner.js';
import { backendTypeLimits } from '../../../protocols/postgres/backend.js';
import { frontendTypeLimits } from '../../../protocols/postgres/frontend.js';
import { pgError } from '../../../protocols/postgres/sqlstate.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { ClientVerdict } from '../../net/relay-core.js';
import type { SessionFraming } from '../../session/run-session.js';
import { describeEndReason, type SessionEndReason } from '../../session/session.js';
import { BACKEND_TAPPED, FRONTEND_TAPPED, type PostgresTap } from './tap.js';

// Terminate too: it is withheld, so a server connection can outlive the client (src/net/server-pool.ts).
const FRONTEND_WANTS = typeTable([...FRONTEND_TAPPED, FrontendCode.Terminate]);
const TERMINATE_LENGTH = 5;
const BACKEND_WANTS = typeTable(BACKEND_TAPPED);
const STATEMENT_TYPES = typeTable([FrontendCode.Query, FrontendCode.Parse, FrontendCode.Bind, FrontendCode.Execute, FrontendCode.FunctionCall]);
/**
 * What a client may send once the session runs — the server's own list (postgres.c SocketBackend); anything else
 * is answered with FATAL 08P01 by jitgate, and never reaches the server.
 */
const FRONTEND_VALID = typeTable([FrontendCode.Query, FrontendCode.FunctionCall, FrontendCode.Terminate, FrontendCode.Bind,
  FrontendCode.Close, FrontendCode.Describe, FrontendCode.Execute, FrontendCode.Flush, FrontendCode.Parse, FrontendCode.Sync,
  FrontendCode.CopyData, FrontendCode.CopyDone, FrontendCode.CopyFail]);

const fatal = (fields: Parameters<typeof encodeErrorResponse>[0]): Buffer => encodeErrorResponse(fields);

/** What the client is told when its session ends for `reason` (DESIGN §4 step 3); also the login's answer when it ends early. */
export function fatalFor(reason: SessionEndReason, grant: string): Buffer | undefined {
  switch (reason.kind) {
    case 'grant_expired': return fatal(pgError.grantExpired(grant));
    case 'grant_revoked':
    case 'ended_by_admin': return fatal(pgError.grantRevoked(grant));
    case 'shutdown': return fatal(pgError.adminShutdown());
    case 'protocol_error': return fatal(pgError.protocolViolation(reason.detail));
    case 'audit_unavailable': return fatal(pgError.auditUnavailable('FATAL'));
    case 'client_closed':
    case 'upstream_closed': return undefined;
  }
}

export interface PostgresFramingOptions {
  readonly grant: string;
  readonly maxMessageBytes: number;
  /** False while the audit trail refuses events (`on_failure: block`). */
  readonly auditAccepting: () => boolean;
  /** Sends a CancelRequest for what runs on the server (teardown step 2). */
  readonly cancel: () => void;
}

const AUDIT_REFUSED: ClientVerdict = { type: 'violation', reason: { kind: 'audit_unavailable' } };

export class PostgresFraming implements SessionFraming {
  private readonly frontend: FrameScanner;
  private readonly backend: FrameScanner;
  private refusedInChunk = 0;
  private messagesInChunk = 0;
  /** The client sent Terminate (withheld from the server) and nothing may follow it. */
  private terminated = false;

  constructor(private readonly tap: PostgresTap, private readonly options: PostgresFramingOptions) {
    this.frontend = new FrameScanner({
      maxMessageBytes: options.maxMessageBytes, wants: FRONTEND_WANTS, validTypes: FRONTEND_VALID, typeLimits: frontendTypeLimits,
      onMessage: (type, body, totalLength) => {
        this.messagesInChunk++;
        if (type === FrontendCode.Terminate) {
          this.terminated = true;
          return;
        }
        if (STATEMENT_TYPES[type] !== 0 && !this.options.auditAccepting()) {
          this.refusedInChunk++;
          return;
        }
        this.tap.onFrontend(type, body, totalLength);
      },
    });
    this.backend = new FrameScanner({
      maxMessageBytes: 0x7fffffff, wants: BACKEND_WANTS, typeLimits: backendTypeLimits,
      onMessage: (type, body, totalLength) => this.tap.onBackend(type, body, totalLength),
    });
  }

  scanClient(chunk: Buffer, replyHeld: boolean): ClientVerdict {
    this.refusedInChunk = 0;
    this.messagesInChunk = 0;
    const wasQuiet = this.quiet && !replyHeld;
    try {
      this.frontend.push(chunk);
    } catch (error) {
      // Only framing fails here (a length out of bounds, a type the server does not accept): the stream has lost its
      // boundaries, as the server would say too. A body the tap cannot decode goes on to the server (tap.ts).
      if (!(error instanceof WireFormatError)) throw error;
      return { type: 'violation', reason: { kind: 'protocol_error', detail: error.message } };
    }
    if (this.refusedInChunk > 0) {
      // A lone Query from an idle client is answered in place and the session goes on; anything else (a pipelined
      // batch) cannot be half-refused without desynchronising the server, so the session ends.
      if (wasQuiet && this.messagesInChunk === 1 && chunk[0] === FrontendCode.Query && this.frontend.atBoundary) {
        return { type: 'answer', reply: Buffer.concat([encodeErrorResponse(pgError.auditUnavailable()), encodeReadyForQuery(this.tap.status)]) };
      }
      return AUDIT_REFUSED;
    }
    if (!this.terminated) return 'forward';
    // Terminate ends the conversation: what came before it goes on, Terminate itself stays here.
    if (chunk.length < TERMINATE_LENGTH || chunk[chunk.length - TERMINATE_LENGTH] !== FrontendCode.Terminate || !this.frontend.atBoundary) {
      return 'forward_and_end';
    }
    return { type: 'goodbye', rest: chunk.subarray(0, chunk.length - TERMINATE_LENGTH) };
  }

  scanServer(chunk: Buffer): void {
    this.backend.push(chunk);
  }

  get quiet(): boolean {
    return this.tap.idle && this.backend.atBoundary;
  }

  /** The server is done with what it was asked (after a cancel, its error and ReadyForQuery) and between messages. */
  get closable(): boolean {
    return this.quiet;
  }

  get running(): boolean {
    return this.tap.running;
  }

  cancelRunning(): void {
    this.options.cancel();
  }

  farewell(reason: SessionEndReason): Buffer | undefined {
    // Only at a boundary may jitgate's own message follow the server's bytes.
    return this.backend.atBoundary ? fatalFor(reason, this.options.grant) : undefined;
  }

  /** Idle, at a boundary both ways, outside a transaction, Terminate withheld: the next client can have it. */
  get reusable(): boolean {
    return this.terminated && this.tap.idle && this.tap.status === 'I' && this.backend.atBoundary && this.frontend.atBoundary;
  }

  abandon(reason: SessionEndReason): void {
    this.tap.abandon({ code: '57P01', message: `session ended: ${describeEndReason(reason)}` });
  }
}
