// Step 7: the relay. Each side gets exactly the bytes the other sent (STYLE rule 6); two frame scanners walk the same
// bytes alongside for the tap. Backpressure is explicit: when a write returns false the other side pauses until
// 'drain'. Closing happens only at a server message boundary, so the client never sees half a message followed by
// jitgate's FATAL.
import type { Socket } from 'node:net';
import { UpstreamListener } from '../../net/upstream-listener.js';
import { FrontendCode } from '../../../protocols/postgres/codes.js';
import { FrameScanner, typeTable } from '../../../protocols/postgres/frame-scanner.js';
import { backendTypeLimits } from '../../../protocols/postgres/backend.js';
import { frontendTypeLimits } from '../../../protocols/postgres/frontend.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { DurableReplyGate } from '../../session/durable-replies.js';
import type { Session } from '../../session/session.js';
import { BACKEND_TAPPED, FRONTEND_TAPPED, type PostgresTap } from './tap.js';

/** How long a closing session may wait for the server to reach a message boundary (after cancelling) before cutting. */
const CLOSE_AT_BOUNDARY_TIMEOUT_MS = 1_500;

// Terminate too: the relay withholds it, so a server connection can outlive the client (src/net/server-pool.ts).
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

export interface RelayHooks {
  /** False while the audit trail refuses events (`on_failure: block`). */
  auditAccepting(): boolean;
  /** The ErrorResponse + ReadyForQuery answering a refused Query, for the given transaction status. */
  refusal(status: 'I' | 'T' | 'E'): Buffer;
  /** The client broke the protocol or statements were refused mid-batch: the engine ends the session. */
  onViolation(detail: string, kind: 'protocol' | 'audit'): void;
  /** Sends a cancel for the statement in flight (teardown step 2). */
  cancelInFlight(): void;
  /**
   * Asked as the relay finishes with a server connection that is idle, at a boundary, and was never sent the client's
   * Terminate: true when the engine takes it back (the relay then detaches from it instead of closing it).
   */
  keepUpstream?(): boolean;
  /** Under `audit.durability: fsync`: server bytes that completed a statement wait for its event (durable-replies.ts). */
  readonly replyGate?: DurableReplyGate;
}

export class PostgresRelay {
  private readonly frontend: FrameScanner;
  private readonly backend: FrameScanner;
  private closing: Buffer | undefined;
  private finished = false;
  private pendingNotice: Buffer | undefined;
  private refusedInChunk = 0;
  private messagesInChunk = 0;
  private closeTimer: NodeJS.Timeout | undefined;
  /** The client sent Terminate (withheld from the server) and nothing may follow it. */
  private terminated = false;
  private upstreamEnded = false;
  /** True once the relay handed the server connection back to the engine instead of closing it. */
  keptUpstream = false;
  private readonly upstreamListener: UpstreamListener;
  private resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly session: Session,
    private readonly tap: PostgresTap,
    private readonly hooks: RelayHooks,
    maxMessageBytes: number,
  ) {
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    this.upstreamListener = new UpstreamListener(upstream, client, (chunk) => this.fromUpstream(chunk), () => this.session.end({ kind: 'upstream_closed' }));
    this.frontend = new FrameScanner({
      maxMessageBytes,
      wants: FRONTEND_WANTS,
      validTypes: FRONTEND_VALID,
      typeLimits: frontendTypeLimits,
      onMessage: (type, body, totalLength) => {
        this.messagesInChunk++;
        if (type === FrontendCode.Terminate) {
          this.terminated = true;
          return;
        }
        if (STATEMENT_TYPES[type] !== 0 && !this.hooks.auditAccepting()) {
          this.refusedInChunk++;
          return;
        }
        this.tap.onFrontend(type, body, totalLength);
      },
    });
    this.backend = new FrameScanner({
      maxMessageBytes: 0x7fffffff,
      wants: BACKEND_WANTS,
      typeLimits: backendTypeLimits,
      onMessage: (type, body, totalLength) => this.tap.onBackend(type, body, totalLength),
    });
  }

  start(clientLeftover: Buffer): void {
    this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.upstreamListener.attach();
    this.client.on('close', () => this.session.end({ kind: 'client_closed' }));
    // After Terminate the client's FIN means nothing to the server; otherwise it is passed on.
    this.client.on('end', () => {
      if (this.terminated) return;
      this.upstreamEnded = true;
      this.upstream.end();
    });
    this.client.on('error', () => {});
    if (clientLeftover.length > 0) this.fromClient(clientLeftover);
    this.client.resume();
    this.upstream.resume();
  }

  /** Queues a NoticeResponse to be sent when the client is idle at a message boundary. */
  notify(notice: Buffer): void {
    this.pendingNotice = notice;
    this.flushNotice();
  }

  /**
   * Teardown steps 1–4: stop reading the client, cancel what runs, and send `fatal` at the next server boundary once
   * the server is done (or after a bounded wait), then close both sockets.
   */
  close(fatal: Buffer | undefined): void {
    if (this.closing || this.finished) return;
    this.hooks.replyGate?.open(); // what is held goes out first; teardown does not wait on the audit trail
    this.closing = fatal ?? Buffer.alloc(0);
    this.client.pause();
    this.upstream.resume();
    // Cancel only what still runs: an error the server has answered, awaiting its ReadyForQuery, is not cancelled
    // (a CancelRequest landing on the backend's next step would add a 57014 the client never caused).
    if (this.tap.running) this.hooks.cancelInFlight();
    if (this.tap.idle && this.backend.atBoundary) {
      this.finish();
      return;
    }
    this.closeTimer = setTimeout(() => this.finish(), CLOSE_AT_BOUNDARY_TIMEOUT_MS);
  }

  private fromClient(chunk: Buffer): void {
    if (this.closing || this.finished || this.terminated) return;
    this.session.bytesIn += chunk.length;
    this.refusedInChunk = 0;
    this.messagesInChunk = 0;
    const wasIdle = this.tap.idle && this.backend.atBoundary && this.hooks.replyGate?.holding !== true;
    try {
      this.frontend.push(chunk);
    } catch (error) {
      // Only framing fails here (a length out of bounds, a type the server does not accept): the stream has lost its
      // boundaries, as the server would say too. A body the tap cannot decode goes on to the server (tap.ts).
      if (!(error instanceof WireFormatError)) throw error;
      this.hooks.onViolation(error.message, 'protocol');
      return;
    }
    if (this.refusedInChunk > 0) {
      // A lone Query from an idle client is answered in place and the session goes on; anything else (a pipelined
      // batch) cannot be half-refused without desynchronising the server, so the session ends.
      if (wasIdle && this.messagesInChunk === 1 && chunk[0] === FrontendCode.Query && this.frontend.atBoundary) {
        this.client.write(this.hooks.refusal(this.tap.status));
      } else {
        this.hooks.onViolation('statements refused while the audit trail is unavailable', 'audit');
      }
      return;
    }
    let forward = chunk;
    if (this.terminated) {
      // Terminate ends the conversation: what came before it goes on, Terminate itself stays here.
      if (chunk.length < TERMINATE_LENGTH || chunk[chunk.length - TERMINATE_LENGTH] !== FrontendCode.Terminate || !this.frontend.atBoundary) {
        this.upstreamEnded = true;
        this.upstream.end(chunk);
        return;
      }
      forward = chunk.subarray(0, chunk.length - TERMINATE_LENGTH);
      if (forward.length > 0) this.upstream.write(forward);
      return;
    }
    if (!this.upstream.write(forward)) {
      this.client.pause();
      this.upstream.once('drain', () => { if (!this.closing) this.client.resume(); });
    }
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.finished) return;
    this.session.bytesOut += chunk.length;
    // The tap only observes this direction, so the client gets the bytes first: recording a statement (its audit
    // event is prepared synchronously) must not sit between the server's reply and the client. While closing, the
    // scan comes first, since it decides where the server's bytes may end; with a reply gate too, since the events
    // the scan records decide whether the bytes wait.
    const gate = this.closing ? undefined : this.hooks.replyGate;
    let flowing = this.closing || gate ? true : this.client.write(chunk);
    try {
      this.backend.push(chunk);
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      gate?.open();
      if (this.closing || gate) this.client.write(chunk);
      this.session.end({ kind: 'upstream_closed', detail: `malformed server message: ${error.message}` });
      return;
    }
    if (this.closing) {
      const more = this.client.write(chunk);
      if (this.tap.idle && this.backend.atBoundary) return this.finish();
      if (!more) {
        this.upstream.pause();
        this.client.once('drain', () => this.upstream.resume());
      }
      return;
    }
    if (gate) {
      if (gate.hold(chunk)) return;
      flowing = this.client.write(chunk);
    }
    if (!flowing) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
    this.flushNotice();
  }

  /** Sends the queued notice if the client is idle at a boundary (also called when a reply gate releases). */
  flushNotice(): void {
    if (!this.pendingNotice || this.closing || !this.tap.idle || !this.backend.atBoundary || this.hooks.replyGate?.holding === true) return;
    this.client.write(this.pendingNotice);
    this.pendingNotice = undefined;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.hooks.replyGate?.open();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    // Only at a boundary may jitgate's own message follow the server's bytes.
    if (this.closing && this.closing.length > 0 && this.backend.atBoundary && !this.client.destroyed) this.client.end(this.closing);
    else this.client.end();
    let open = 2;
    const closed = (): void => { if (--open === 0) this.resolveDone(); };
    if (this.reusableUpstream() && this.hooks.keepUpstream?.() === true) {
      this.detachUpstream();
      closed();
    } else {
      this.upstream.destroy();
      if (this.upstream.closed) closed(); else this.upstream.once('close', closed);
    }
    // The client is done once it has been told: its last bytes flushed ('finish') or its socket gone. A client that
    // does not read (psql waiting on its terminal) must not hold up the grant's revocation until it closes.
    if (this.client.closed || this.client.writableFinished) {
      closed();
    } else {
      let told = false;
      const clientDone = (): void => {
        if (told) return;
        told = true;
        closed();
      };
      this.client.once('finish', clientDone);
      this.client.once('close', clientDone);
    }
    // A client that never reads must not hold the session open.
    setTimeout(() => this.client.destroy(), 5_000).unref();
  }

  /** Idle, at a boundary both ways, Terminate withheld, and the socket still whole: the next client can have it. */
  private reusableUpstream(): boolean {
    return this.terminated && !this.upstreamEnded && this.tap.idle && this.tap.status === 'I' && this.backend.atBoundary
      && this.frontend.atBoundary && !this.upstream.destroyed && this.upstream.readyState === 'open';
  }

  private detachUpstream(): void {
    this.upstreamListener.detach();
    this.keptUpstream = true;
  }

  /** The session ended by itself (client or server closed): close the other side too. */
  shutdown(): void {
    this.closing ??= Buffer.alloc(0);
    this.finish();
  }
}
