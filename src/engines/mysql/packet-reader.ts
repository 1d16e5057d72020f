// Reads whole MySQL packets from a socket during the handshake phases (client greeting reply, auth round trips, the
// upstream login). These packets are small; the relay uses its own tap framers instead.
// Packets are cut from the received bytes only when read() asks for one, never ahead: what follows the last packet
// read is not MySQL framing when the peer has switched protocols — a client's TLS ClientHello often arrives in the
// same TCP segment as its SSLRequest. detach() hands those bytes back to the socket (unshift), so the TLS layer or the
// relay that takes over sees them.
import type { Socket } from 'node:net';
import { HandshakeBuffer } from '../../net/handshake-buffer.js';
import { encodePacket, PacketTooLargeError } from '../../../protocols/mysql/packet-framer.js';

/** Handshake-phase packets (greeting replies, auth data, public keys) never need more. */
const MAX_HANDSHAKE_PAYLOAD = 64 * 1024;

export class PeerClosed extends Error {
  constructor(readonly peer: 'client' | 'upstream') {
    super(`${peer} closed the connection`);
    this.name = 'PeerClosed';
  }
}

export interface Packet {
  readonly sequenceId: number;
  readonly payload: Buffer;
}

export class PacketReader {
  private readonly buffer: HandshakeBuffer;
  /** Sequence id for the next packet this side writes. */
  nextSequenceId = 0;

  constructor(socket: Socket, signal: AbortSignal, private readonly peer: 'client' | 'upstream') {
    this.buffer = new HandshakeBuffer(socket, signal);
  }

  /** One packet off the front of the received bytes, or undefined while it is incomplete. Checks the length before waiting. */
  private cut(): Packet | undefined {
    const pending = this.buffer.bytes;
    if (pending.length < 4) return undefined;
    const length = pending.readUIntLE(0, 3);
    // Handshake packets never need 16 MiB continuation frames; a declared length beyond the cap ends it here.
    if (length > MAX_HANDSHAKE_PAYLOAD) throw new PacketTooLargeError(length, MAX_HANDSHAKE_PAYLOAD);
    if (pending.length < 4 + length) return undefined;
    const sequenceId = pending[3] as number;
    const payload = this.buffer.take(4 + length).subarray(4);
    this.nextSequenceId = (sequenceId + 1) & 0xff;
    return { sequenceId, payload };
  }

  async read(): Promise<Packet> {
    for (;;) {
      const packet = this.cut();
      if (packet) return packet;
      await this.buffer.waitForBytes(() => new PeerClosed(this.peer));
    }
  }

  /** Writes `payload` framed with the next sequence id of this exchange. */
  write(payload: Uint8Array): void {
    this.buffer.socket.write(encodePacket(this.nextSequenceId, payload));
    this.nextSequenceId = (this.nextSequenceId + 1) & 0xff;
  }

  /** Bytes arrived beyond the packets read so far. */
  get hasBufferedPackets(): boolean {
    return this.buffer.bytes.length > 0;
  }

  /**
   * Hands the socket on (to TLS or the relay), paused, with the bytes received beyond the last packet read put back
   * in front of its stream: TLSSocket and the relay's 'data' handler read them first.
   */
  detach(): void {
    const socket = this.buffer.socket;
    const rest = this.buffer.detach();
    if (rest.length > 0) socket.unshift(rest);
  }

  /** Continues on an upgraded socket; the sequence numbering of the exchange carries on. */
  rebind(socket: Socket): void {
    this.buffer.rebind(socket);
  }
}
