// Step 7 of every session, for both wire protocols: the verbatim relay (STYLE rule 6). The core owns both sockets —
// backpressure, the durable reply gate, notices at a boundary, closing at a server message boundary, handing a clean
// server connection back for reuse — and asks the protocol's framing (RelayFraming) only what bytes mean: where
// messages end, what the client's chunk asks for, what the client is told at the end. Server bytes reach the client
// before they are scanned (recording a statement must not sit between a reply and its reader), except while closing
// or gating, when the scan decides whether and where they may go.
import type { Socket } from 'node:net';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import type { DurableReplyGate } from '../session/durable-replies.js';
import type { SessionEndReason } from '../session/session.js';
import { UpstreamListener } from './upstream-listener.js';

/** How long a closing session may wait for the server to reach a boundary (after cancelling) before cutting. */
const CLOSE_AT_BOUNDARY_TIMEOUT_MS = 1_500;
/** How long a closed session's client may take to close its side before its socket is destroyed. */
const CLIENT_LINGER_MS = 5_000;

/**
 * What the core does with a client chunk, as the framing read it. The common answer is a constant: the hot path
 * allocates no verdict.
 */
export type ClientVerdict =
  /** The chunk goes on to the server as it is. */
  | 'forward'
  /** The chunk goes on, and it ends the conversation (a goodbye amid other data): the server closes. */
  | 'forward_and_end'
  /** The client said goodbye; `rest` (what came before it) goes on, the goodbye itself is withheld. */
  | { readonly type: 'goodbye'; readonly rest: Buffer }
  /** Nothing goes to the server; the client gets `reply` in place of the server's answer. */
  | { readonly type: 'answer'; readonly reply: Buffer }
  /** The server gets `bytes` instead of the chunk (a named rewrite, e.g. a KILL by connection id). */
  | { readonly type: 'replace'; readonly bytes: Buffer }
  /** The session ends; the client hears `reply` first (else what `farewell` says at the close). */
  | { readonly type: 'violation'; readonly reason: SessionEndReason; readonly reply?: Buffer };

/** The protocol half of a relay: framing, the tap behind it, and the protocol's words at the end. */
export interface RelayFraming {
  /**
   * Frames and taps one client chunk. `replyHeld`: the reply gate holds server bytes, so nothing may be answered in
   * place (it would overtake them). Never throws a WireFormatError: framing faults come back as a violation.
   */
  scanClient(chunk: Buffer, replyHeld: boolean): ClientVerdict;
  /** Frames and taps one server chunk; a WireFormatError means the server's stream is broken. */
  scanServer(chunk: Buffer): void;
  /** Nothing asked and unanswered, the server at a message boundary: a notice may go out. */
  readonly quiet: boolean;
  /** A closing session may stop here: the server is at a boundary the protocol's last words may follow. */
  readonly closable: boolean;
  /** The server is working on something a cancel could stop (teardown step 2). */
  readonly running: boolean;
  cancelRunning(): void;
  /** What the client is told as its session ends for `reason` (DESIGN §4 step 3), given where things stand. */
  farewell(reason: SessionEndReason): Buffer | undefined;
  /** The client's goodbye was withheld and nothing is in flight either way: the server connection is clean. */
  readonly reusable: boolean;
}

export interface RelayCoreOptions {
  readonly replyGate?: DurableReplyGate;
  /** The session must end (the relay saw its reason: client gone, server gone or broken, a violation). */
  readonly end: (reason: SessionEndReason) => void;
  /** Counts what crossed, for the session record. */
  readonly counted: { bytesIn: number; bytesOut: number };
  /** Asked as a clean server connection is finished with: true when the session core takes it back for reuse. */
  readonly keepUpstream: () => boolean;
}

export class RelayCore {
  private closing: SessionEndReason | undefined;
  private finished = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private pendingNotice: Buffer | undefined;
  /** The client said goodbye (withheld from the server, or passed on amid other data): nothing it sends after counts. */
  private saidGoodbye = false;
  /** The server was sent the client's FIN or its goodbye: it is closing. */
  private upstreamEnded = false;
  /** True once the server connection was handed back (keepUpstream) instead of closed. */
  keptUpstream = false;
  private readonly upstreamListener: UpstreamListener;
  private resolveDone!: () => void;
  /** Settles once both sockets are done with (the client told and closed, the server closed or handed back). */
  readonly done: Promise<void>;

  constructor(private readonly client: Socket, private readonly upstream: Socket, private readonly framing: RelayFraming,
    private readonly options: RelayCoreOptions) {
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    this.upstreamListener = new UpstreamListener(upstream, client, (chunk) => this.fromUpstream(chunk), () => options.end({ kind: 'upstream_closed' }));
  }

  /** Starts relaying; `clientLeftover` is what the client sent past its login, read already. */
  start(clientLeftover: Buffer): void {
    this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.upstreamListener.attach();
    this.client.on('close', () => this.options.end({ kind: 'client_closed' }));
    // After a withheld goodbye the client's FIN means nothing to the server; otherwise it is passed on.
    this.client.on('end', () => {
      if (this.saidGoodbye) return;
      this.upstreamEnded = true;
      this.upstream.end();
    });
    this.client.on('error', () => {});
    if (clientLeftover.length > 0) this.fromClient(clientLeftover);
    this.client.resume();
    this.upstream.resume();
  }

  /** Queues a message (a notice) for the client, sent once the session is quiet at a boundary. */
  notify(message: Buffer): void {
    this.pendingNotice = message;
    this.flushNotice();
  }

  /**
   * Teardown steps 1–4: stop reading the client, cancel what runs, and say `reason` at the next point the framing
   * finds closable (or after a bounded wait), then close both sockets.
   */
  close(reason: SessionEndReason): void {
    if (this.closing !== undefined || this.finished) return;
    this.options.replyGate?.open(); // what is held goes out first; teardown does not wait on the audit trail
    this.closing = reason;
    this.client.pause();
    this.upstream.resume();
    // Only what still runs: an answered error awaiting its end-of-reply would get a cancel the client never caused.
    if (this.framing.running) this.framing.cancelRunning();
    if (this.framing.closable) {
      this.finish();
      return;
    }
    this.closeTimer = setTimeout(() => this.finish(), CLOSE_AT_BOUNDARY_TIMEOUT_MS);
  }

  /** A side went away by itself (client or server closed): close the other one now. */
  shutdown(reason: SessionEndReason): void {
    this.closing ??= reason;
    this.finish();
  }

  /** Sends the queued notice if the session is quiet (also when a reply gate releases). */
  flushNotice(): void {
    if (this.pendingNotice === undefined || this.closing !== undefined || !this.framing.quiet || this.options.replyGate?.holding === true) return;
    this.client.write(this.pendingNotice);
    this.pendingNotice = undefined;
  }

  private fromClient(chunk: Buffer): void {
    if (this.closing !== undefined || this.finished || this.saidGoodbye) return;
    this.options.counted.bytesIn += chunk.length;
    const verdict = this.framing.scanClient(chunk, this.options.replyGate?.holding === true);
    if (verdict === 'forward') return this.toUpstream(chunk);
    if (verdict === 'forward_and_end') {
      this.saidGoodbye = true;
      this.upstreamEnded = true;
      this.upstream.end(chunk);
      return;
    }
    switch (verdict.type) {
      case 'answer':
        this.client.write(verdict.reply);
        return;
      case 'replace':
        return this.toUpstream(verdict.bytes);
      case 'goodbye':
        this.saidGoodbye = true;
        if (verdict.rest.length > 0) this.upstream.write(verdict.rest);
        // With nothing in flight the server would close now; jitgate does so in its place. Otherwise the replies to
        // what came before the goodbye still reach the client until it closes.
        if (this.framing.quiet) this.options.end({ kind: 'client_closed' });
        return;
      case 'violation':
        if (verdict.reply !== undefined && !this.client.destroyed) this.client.write(verdict.reply);
        this.options.end(verdict.reason);
        return;
    }
  }

  private toUpstream(bytes: Buffer): void {
    if (!this.upstream.write(bytes)) {
      this.client.pause();
      this.upstream.once('drain', () => { if (this.closing === undefined) this.client.resume(); });
    }
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.finished) return;
    this.options.counted.bytesOut += chunk.length;
    const gate = this.closing === undefined ? this.options.replyGate : undefined;
    const scanFirst = this.closing !== undefined || gate !== undefined;
    let flowing = scanFirst ? true : this.client.write(chunk);
    try {
      this.framing.scanServer(chunk);
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      this.options.replyGate?.open();
      if (scanFirst) this.client.write(chunk);
      this.options.end({ kind: 'upstream_closed', detail: `malformed server message: ${error.message}` });
      return;
    }
    if (this.closing !== undefined) {
      const more = this.client.write(chunk);
      if (this.framing.closable) return this.finish();
      if (!more) this.pauseUpstreamUntilDrain();
      return;
    }
    if (gate !== undefined) {
      if (gate.hold(chunk)) return;
      flowing = this.client.write(chunk);
    }
    if (!flowing) this.pauseUpstreamUntilDrain();
    this.flushNotice();
  }

  private pauseUpstreamUntilDrain(): void {
    this.upstream.pause();
    this.client.once('drain', () => this.upstream.resume());
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.options.replyGate?.open();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const words = this.closing === undefined || this.client.destroyed ? undefined : this.framing.farewell(this.closing);
    if (words !== undefined) this.client.end(words); else this.client.end();
    // Read (and drop) what the client still sends: a paused socket never sees the client's FIN.
    this.client.resume();
    const kept = this.framing.reusable && !this.upstreamEnded && !this.upstream.destroyed && this.upstream.readyState === 'open'
      && this.options.keepUpstream();
    if (kept) {
      this.upstreamListener.detach();
      this.keptUpstream = true;
    } else {
      this.upstream.destroy();
    }
    // Done once the server connection is gone (or handed back) and the client has everything jitgate sends: the lease
    // may be revoked then. A client that never closes its side (a CLI blocked on its stdin) must not hold that up.
    const clientDone = new Promise<void>((resolve) => {
      if (this.client.closed || this.client.writableFinished) resolve();
      else this.client.once('finish', resolve).once('close', resolve);
    });
    const upstreamDone = new Promise<void>((resolve) => {
      if (kept || this.upstream.closed) resolve(); else this.upstream.once('close', resolve);
    });
    void Promise.all([clientDone, upstreamDone]).then(() => this.resolveDone());
    if (!this.client.closed) {
      const linger = setTimeout(() => this.client.destroy(), CLIENT_LINGER_MS);
      linger.unref();
      this.client.once('close', () => clearTimeout(linger));
    }
  }
}
