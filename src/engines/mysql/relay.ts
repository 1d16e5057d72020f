// Step 7 for MySQL: verbatim relay in both directions with a tap on each (STYLE rule 6). Client commands are framed
// with sequence checking (each command starts at 0; framing errors end the session, an undecodable body does not);
// a command jitgate refuses (policy, audit unavailable) is answered
// with an ERR in its place when it arrived alone, which is how every MySQL client sends commands. Closing waits for a
// server packet boundary, so jitgate's ERR never lands inside another packet. A lone COM_QUIT is withheld from the
// server, so its connection can outlive the client (src/net/server-pool.ts).
import type { Socket } from 'node:net';
import { UpstreamListener } from '../../net/upstream-listener.js';
import { decodeClientCommand, undecodableCommand, type ClientCommand } from '../../../protocols/mysql/client-commands.js';
import { encodePacket, PacketFramer } from '../../../protocols/mysql/packet-framer.js';
import { encodeErrPacket, type ErrFields } from '../../../protocols/mysql/server-results.js';
import { errorForWireFormat, mysqlError } from '../../../protocols/mysql/server-errors.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { DurableReplyGate } from '../../session/durable-replies.js';
import type { Session } from '../../session/session.js';
import type { KillRoute } from './kill-statement.js';
import type { MysqlTap } from './tap.js';

const CLOSE_AT_BOUNDARY_TIMEOUT_MS = 1_500;
/** How long a closed session's client socket may take to close its side before it is destroyed. */
const CLIENT_LINGER_MS = 5_000;
/** Server packets are only classified (OK/ERR/EOF/column definitions): their first bytes are enough. */
const SERVER_RETAIN_BYTES = 16 * 1024;

export interface MysqlRelayHooks {
  /** undefined to forward the command, or the ERR that answers it instead. */
  refusal(command: ClientCommand): ErrFields | undefined;
  /**
   * A command that kills by connection id (kill-statement.ts): undefined to forward it as sent, else the payload the
   * server gets instead or the ERR that answers it (recorded as the statement's outcome).
   */
  killRoute?(command: ClientCommand, payload: Uint8Array, payloadLength: number): KillRoute | undefined;
  /** The session must end (protocol violation, or a refusal that could not be answered in place). */
  onViolation(detail: string, told: ErrFields): void;
  /** KILL QUERY for the command in flight (teardown step 2). */
  cancelInFlight(): void;
  /**
   * Asked at the end of a session whose client sent a lone COM_QUIT at idle (withheld from the server): true when the
   * engine takes the server connection back (the relay then detaches from it instead of closing it).
   */
  keepUpstream?(): boolean;
  /** Under `audit.durability: fsync`: server bytes that completed a statement wait for its event (durable-replies.ts). */
  readonly replyGate?: DurableReplyGate;
}

/** COM_QUIT as a lone packet: header (payload length 1, sequence 0) and the command byte. */
const QUIT_PACKET_LENGTH = 5;

export interface MysqlRelayOptions {
  readonly capabilities: number;
  readonly maxPayloadBytes: number;
  /** Client payload bytes kept for the tap (SQL text up to the audit cap). */
  readonly clientRetainBytes: number;
}

export class MysqlRelay {
  private readonly fromClientFramer: PacketFramer;
  private readonly fromServerFramer: PacketFramer;
  private refused: ErrFields | undefined;
  /** The command `refused` answers, when that answer is its statement's outcome (a KILL of an unknown id). */
  private answered: ClientCommand | undefined;
  /** The payload the server gets in place of the client's command (a KILL, rewritten). */
  private rewritten: Buffer | undefined;
  private packetsInChunk = 0;
  private quitInChunk = false;
  private nextServerSequence = 1;
  private closing: ErrFields | null | undefined;
  private finished = false;
  private closeTimer: NodeJS.Timeout | undefined;
  /** The client sent COM_QUIT alone at idle and jitgate kept it from the server. */
  private quitWithheld = false;
  /** The server was sent the client's FIN or its COM_QUIT: it is closing. */
  private upstreamEnded = false;
  /** The engine took the server connection back at the end (see keepUpstream). */
  keptUpstream = false;
  private readonly upstreamListener: UpstreamListener;
  private resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(private readonly client: Socket, private readonly upstream: Socket, private readonly session: Session,
    private readonly tap: MysqlTap, private readonly hooks: MysqlRelayHooks, private readonly options: MysqlRelayOptions) {
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    this.upstreamListener = new UpstreamListener(upstream, client, (chunk) => this.fromUpstream(chunk), () => this.session.end({ kind: 'upstream_closed' }));
    this.fromClientFramer = new PacketFramer((_sequenceId, payload, payloadLength) => {
      this.packetsInChunk++;
      // Every command starts a new exchange at sequence id 0.
      this.fromClientFramer.expectSequenceId(0);
      const command = this.decodeCommand(payload, payloadLength);
      if (command.type === 'quit') this.quitInChunk = true;
      const refusal = this.hooks.refusal(command);
      if (refusal) {
        this.refused = refusal;
        return;
      }
      const kill = this.hooks.killRoute?.(command, payload, payloadLength);
      if (kill?.type === 'answer') {
        this.refused = kill.err;
        this.answered = command;
        return;
      }
      if (kill?.type === 'rewrite') this.rewritten = kill.payload;
      this.nextServerSequence = 1;
      // The audit has the command as the client sent it, also when the server gets it rewritten.
      this.tap.onCommand(command, payload, payloadLength);
    }, { maxPayloadBytes: options.maxPayloadBytes, retainBytes: options.clientRetainBytes, checkSequence: true, firstSequenceId: 0 });
    this.fromServerFramer = new PacketFramer((sequenceId, payload, payloadLength, frameCount) => {
      this.nextServerSequence = (sequenceId + frameCount) & 0xff;
      this.tap.onServerPacket(payload, payloadLength);
    }, { maxPayloadBytes: 0x3fffffff, retainBytes: SERVER_RETAIN_BYTES });
  }

  /**
   * The command a soundly framed packet holds. A body jitgate cannot decode is still the client's to send: the server
   * reads it as it would from any client and answers for itself, so it goes on as sent (the audit notes it).
   */
  private decodeCommand(payload: Uint8Array, payloadLength: number): ClientCommand {
    try {
      return decodeClientCommand(payload, { capabilities: this.options.capabilities, payloadLength });
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      return undecodableCommand(payload, error.message);
    }
  }

  start(): void {
    this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.upstreamListener.attach();
    this.client.on('close', () => this.session.end({ kind: 'client_closed' }));
    // After a withheld COM_QUIT the client's FIN means nothing to the server; otherwise it is passed on.
    this.client.on('end', () => {
      if (this.quitWithheld) return;
      this.upstreamEnded = true;
      this.upstream.end();
    });
    this.client.on('error', () => {});
    this.client.resume();
    this.upstream.resume();
  }

  /**
   * Teardown steps 1–4: stop reading the client, kill what runs, answer a pending command with `told` at the next
   * server packet boundary (an idle client gets it unsolicited, see `finish`), then close both sockets.
   */
  close(told: ErrFields | undefined): void {
    if (this.closing !== undefined || this.finished) return;
    this.hooks.replyGate?.open(); // what is held goes out first; teardown does not wait on the audit trail
    this.closing = told ?? null;
    this.client.pause();
    if (this.tap.busy) this.hooks.cancelInFlight();
    if (this.fromServerFramer.isIdle) {
      this.finish();
      return;
    }
    this.closeTimer = setTimeout(() => this.finish(), CLOSE_AT_BOUNDARY_TIMEOUT_MS);
  }

  /** The peer went away by itself: close the other side. */
  shutdown(): void {
    this.closing ??= null;
    this.finish();
  }

  private fromClient(chunk: Buffer): void {
    if (this.closing !== undefined || this.finished || this.quitWithheld) return;
    this.session.bytesIn += chunk.length;
    const startedIdle = this.fromClientFramer.isIdle;
    this.refused = undefined;
    this.answered = undefined;
    this.rewritten = undefined;
    this.packetsInChunk = 0;
    this.quitInChunk = false;
    try {
      this.fromClientFramer.push(chunk);
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      this.hooks.onViolation(error.message, errorForWireFormat(error));
      return;
    }
    // Answered or rewritten in place: only a command that arrived alone, which is how MySQL clients send them.
    const alone = startedIdle && this.packetsInChunk === 1 && this.fromClientFramer.isIdle;
    if (this.refused) {
      if (alone && this.hooks.replyGate?.holding !== true) {
        this.client.write(encodePacket(1, encodeErrPacket(this.refused, this.options.capabilities)));
        if (this.answered) this.tap.onAnswered(this.answered, this.refused);
      } else {
        this.hooks.onViolation('a refused command arrived with other data', this.refused);
      }
      return;
    }
    if (this.rewritten) {
      if (!alone) {
        this.hooks.onViolation('a KILL by connection id arrived with other data', mysqlError.notSupported('A KILL by connection id sent with other commands'));
        return;
      }
      this.forward(encodePacket(0, this.rewritten));
      return;
    }
    if (this.quitInChunk) {
      // Alone, between commands: the server need not hear it. Any other COM_QUIT goes on and the server closes.
      if (startedIdle && this.packetsInChunk === 1 && chunk.length === QUIT_PACKET_LENGTH && !this.tap.busy && this.fromServerFramer.isIdle) {
        this.quitWithheld = true;
        // The server would close the connection now; jitgate does so in its place.
        this.session.end({ kind: 'client_closed' });
        return;
      }
      this.upstreamEnded = true;
    }
    this.forward(chunk);
  }

  private forward(bytes: Buffer): void {
    if (!this.upstream.write(bytes)) {
      this.client.pause();
      this.upstream.once('drain', () => { if (this.closing === undefined) this.client.resume(); });
    }
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.finished) return;
    this.session.bytesOut += chunk.length;
    try {
      this.fromServerFramer.push(chunk);
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      this.hooks.replyGate?.open();
      this.client.write(chunk);
      this.session.end({ kind: 'upstream_closed', detail: `malformed server packet: ${error.message}` });
      return;
    }
    if (this.closing === undefined && this.hooks.replyGate?.hold(chunk) === true) return;
    const wrote = this.client.write(chunk);
    if (this.closing !== undefined && this.fromServerFramer.isIdle) {
      this.finish();
      return;
    }
    if (!wrote) {
      this.upstream.pause();
      this.client.once('drain', () => this.upstream.resume());
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.hooks.replyGate?.open();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const told = this.closing;
    const atBoundary = this.fromServerFramer.isIdle && !this.client.destroyed;
    if (told && atBoundary && this.tap.busy) {
      this.client.end(encodePacket(this.nextServerSequence, encodeErrPacket(told, this.options.capabilities)));
    } else if (told && atBoundary && this.fromClientFramer.isIdle) {
      // Idle: the ERR as MySQL 8.0.24+ sends ER_CLIENT_INTERACTION_TIMEOUT before closing an idle connection — with
      // sequence id 0, where a command's answer would start. libmariadb reads it as the next statement's error and
      // mysql2 as the connection's 'error' (docs/decisions.md §26).
      this.client.end(encodePacket(0, encodeErrPacket(told, this.options.capabilities)));
    } else {
      this.client.end();
    }
    // Read (and drop) what the client still sends: a paused socket never sees the client's FIN, so it would stay open
    // until the timer below, with the session not ended.
    this.client.resume();
    const kept = this.reusableUpstream() && this.hooks.keepUpstream?.() === true;
    if (kept) this.detachUpstream(); else this.upstream.destroy();
    // Done once the upstream connection is gone and the client has everything jitgate sends (its FIN included): the
    // lease may be revoked then. A client that never closes its side (an idle CLI blocked on its stdin) does not
    // hold that up; its socket is destroyed after a grace period.
    const clientDone = new Promise<void>((resolve) => {
      if (this.client.closed || this.client.writableFinished) resolve();
      else {
        this.client.once('finish', resolve);
        this.client.once('close', resolve);
      }
    });
    const upstreamDone = new Promise<void>((resolve) => {
      if (kept || this.upstream.closed) resolve(); else this.upstream.once('close', resolve);
    });
    void Promise.all([clientDone, upstreamDone]).then(() => this.resolveDone());
    const linger = setTimeout(() => this.client.destroy(), CLIENT_LINGER_MS);
    linger.unref();
    if (this.client.closed) clearTimeout(linger); else this.client.once('close', () => clearTimeout(linger));
  }

  /** COM_QUIT withheld, nothing in flight either way, the socket whole: the next client can have the connection. */
  private reusableUpstream(): boolean {
    return this.quitWithheld && !this.upstreamEnded && !this.tap.busy && this.fromServerFramer.isIdle && this.fromClientFramer.isIdle
      && !this.upstream.destroyed && this.upstream.readyState === 'open';
  }

  private detachUpstream(): void {
    this.upstreamListener.detach();
    this.keptUpstream = true;
  }
}
