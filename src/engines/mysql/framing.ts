// The MySQL half of a session's relay (src/net/relay-core.ts does the sockets). Client commands are framed with
// sequence checking (each command starts at 0; framing errors end the session, an undecodable body does not); a
// command jitgate refuses (policy, audit unavailable, a KILL of a foreign id) is answered with an ERR in its place
// when it arrived alone, which is how every MySQL client sends commands; a lone COM_QUIT at idle is withheld, so the
// server connection can outlive the client (src/net/server-pool.ts). The last words (DESIGN §4 step 3) are an ERR at a
// server packet boundary: the answer to a pending command, or, to an idle client, unsolicited with sequence id 0.
import { decodeClientCommand, undecodableCommand, type ClientCommand } from '../../../protocols/mysql/client-commands.js';
import { encodePacket, PacketFramer } from '../../../protocols/mysql/packet-framer.js';
import { encodeErrPacket, type ErrFields } from '../../../protocols/mysql/server-results.js';
import { errorForWireFormat, mysqlError } from '../../../protocols/mysql/server-errors.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { ClientVerdict } from '../../net/relay-core.js';
import type { SessionFraming } from '../../session/run-session.js';
import { describeEndReason, type SessionEndReason } from '../../session/session.js';
import type { KillRoute } from './kill-statement.js';
import type { MysqlTap } from './tap.js';

/** Server packets are only classified (OK/ERR/EOF/column definitions): their first bytes are enough. */
const SERVER_RETAIN_BYTES = 16 * 1024;
/** COM_QUIT as a lone packet: header (payload length 1, sequence 0) and the command byte. */
const QUIT_PACKET_LENGTH = 5;

/** DESIGN §4 step 3: what the client is told when its session ends (or its login, when it ends early). */
export function errFor(reason: SessionEndReason, grant: string): ErrFields | undefined {
  switch (reason.kind) {
    case 'grant_expired': return mysqlError.grantExpired(grant);
    case 'grant_revoked':
    case 'ended_by_admin': return mysqlError.grantRevoked(grant);
    case 'shutdown': return mysqlError.connectionKilled('jitgate is shutting down');
    case 'audit_unavailable': return mysqlError.auditUnavailable();
    // The framing told the client when it found the violation: one ERR, not two.
    case 'protocol_error': return undefined;
    case 'client_closed':
    case 'upstream_closed': return undefined;
  }
}

export interface MysqlFramingOptions {
  readonly grant: string;
  readonly capabilities: number;
  readonly maxPayloadBytes: number;
  /** Client payload bytes kept for the tap (SQL text up to the audit cap). */
  readonly clientRetainBytes: number;
  /** undefined to forward the command, or the ERR that answers it instead. */
  readonly refusal: (command: ClientCommand) => ErrFields | undefined;
  /** A command that kills by connection id (kill-statement.ts): forwarded as sent (undefined), rewritten, or answered. */
  readonly killRoute: (command: ClientCommand, payload: Uint8Array, payloadLength: number) => KillRoute | undefined;
  /** KILL QUERY for the command in flight (teardown step 2). */
  readonly cancel: () => void;
  /** The session is ending: its connection id names nothing any more. */
  readonly ending: () => void;
}

export class MysqlFraming implements SessionFraming {
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
  /** The client sent COM_QUIT alone at idle and jitgate kept it from the server. */
  private quitWithheld = false;

  constructor(private readonly tap: MysqlTap, private readonly options: MysqlFramingOptions) {
    this.fromClientFramer = new PacketFramer((_sequenceId, payload, payloadLength) => {
      this.packetsInChunk++;
      // Every command starts a new exchange at sequence id 0.
      this.fromClientFramer.expectSequenceId(0);
      const command = this.decodeCommand(payload, payloadLength);
      if (command.type === 'quit') this.quitInChunk = true;
      const refusal = options.refusal(command);
      if (refusal) {
        this.refused = refusal;
        return;
      }
      const kill = options.killRoute(command, payload, payloadLength);
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

  private err(sequenceId: number, fields: ErrFields): Buffer {
    return encodePacket(sequenceId, encodeErrPacket(fields, this.options.capabilities));
  }

  scanClient(chunk: Buffer, replyHeld: boolean): ClientVerdict {
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
      return { type: 'violation', reason: { kind: 'protocol_error', detail: error.message }, reply: this.err(1, errorForWireFormat(error)) };
    }
    // Answered or rewritten in place: only a command that arrived alone, which is how MySQL clients send them.
    const alone = startedIdle && this.packetsInChunk === 1 && this.fromClientFramer.isIdle;
    if (this.refused) {
      if (!alone || replyHeld) {
        return { type: 'violation', reason: { kind: 'protocol_error', detail: 'a refused command arrived with other data' }, reply: this.err(1, this.refused) };
      }
      if (this.answered) this.tap.onAnswered(this.answered, this.refused);
      return { type: 'answer', reply: this.err(1, this.refused) };
    }
    if (this.rewritten) {
      if (!alone) {
        const told = mysqlError.notSupported('A KILL by connection id sent with other commands');
        return { type: 'violation', reason: { kind: 'protocol_error', detail: 'a KILL by connection id arrived with other data' }, reply: this.err(1, told) };
      }
      return { type: 'replace', bytes: encodePacket(0, this.rewritten) };
    }
    if (this.quitInChunk) {
      // Alone, between commands: the server need not hear it. Any other COM_QUIT goes on and the server closes.
      if (alone && chunk.length === QUIT_PACKET_LENGTH && this.quiet) {
        this.quitWithheld = true;
        return { type: 'goodbye', rest: chunk.subarray(0, 0) };
      }
      return 'forward_and_end';
    }
    return 'forward';
  }

  scanServer(chunk: Buffer): void {
    this.fromServerFramer.push(chunk);
  }

  get quiet(): boolean {
    return !this.tap.busy && this.fromServerFramer.isIdle;
  }

  /** At a server packet boundary: an ERR may follow (a pending command's answer is cut there, as the server does). */
  get closable(): boolean {
    return this.fromServerFramer.isIdle;
  }

  get running(): boolean {
    return this.tap.busy;
  }

  cancelRunning(): void {
    this.options.cancel();
  }

  farewell(reason: SessionEndReason): Buffer | undefined {
    const told = errFor(reason, this.options.grant);
    if (told === undefined || !this.fromServerFramer.isIdle) return undefined;
    if (this.tap.busy) return this.err(this.nextServerSequence, told);
    // Idle: the ERR as MySQL 8.0.24+ sends ER_CLIENT_INTERACTION_TIMEOUT before closing an idle connection — with
    // sequence id 0, where a command's answer would start. libmariadb reads it as the next statement's error and
    // mysql2 as the connection's 'error' (docs/decisions.md §26).
    return this.fromClientFramer.isIdle ? this.err(0, told) : undefined;
  }

  /** COM_QUIT withheld, nothing in flight either way: the next client can have the connection. */
  get reusable(): boolean {
    return this.quitWithheld && !this.tap.busy && this.fromServerFramer.isIdle && this.fromClientFramer.isIdle;
  }

  ending(): void {
    this.options.ending();
  }

  abandon(reason: SessionEndReason): void {
    this.tap.abandon({ code: '1927', message: `session ended: ${describeEndReason(reason)}` });
  }
}
