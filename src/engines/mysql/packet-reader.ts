// Reads whole MySQL packets from a socket during the handshake phases (client greeting reply, auth round trips, the
// upstream login). These packets are small; the relay uses its own tap framers instead.
// Packets are cut from the received bytes only when read() asks for one, never ahead: what follows the last packet
// read is not MySQL framing when the peer has switched protocols — a client's TLS ClientHello often arrives in the
// same TCP segment as its SSLRequest. detach() hands those bytes back to the socket (unshift), so the TLS layer or the
// relay that takes over sees them.
import type { Socket } from 'node:net';
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
  /** Received bytes not yet cut into packets (handshake traffic: a few hundred bytes, so joining is cheap). */
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;
  /** Sequence id for the next packet this side writes. */
  nextSequenceId = 0;
  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.closed = true;
    this.notify();
  };
  private readonly onError = (error: Error): void => {
    this.failure ??= error;
    this.notify();
  };

  constructor(private socket: Socket, private readonly signal: AbortSignal, private readonly peer: 'client' | 'upstream') {
    this.attach();
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('close', this.onEnd);
    this.socket.on('error', this.onError);
    this.socket.resume();
  }

  private detachListeners(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** One packet off the front of `pending`, or undefined while it is incomplete. Checks the length before waiting. */
  private cut(): Packet | undefined {
    const pending = this.pending;
    if (pending.length < 4) return undefined;
    const length = pending.readUIntLE(0, 3);
    // Handshake packets never need 16 MiB continuation frames; a declared length beyond the cap ends it here.
    if (length > MAX_HANDSHAKE_PAYLOAD) throw new PacketTooLargeError(length, MAX_HANDSHAKE_PAYLOAD);
    if (pending.length < 4 + length) return undefined;
    const sequenceId = pending[3] as number;
    const payload = Buffer.from(pending.subarray(4, 4 + length));
    this.pending = pending.subarray(4 + length);
    this.nextSequenceId = (sequenceId + 1) & 0xff;
    return { sequenceId, payload };
  }

  async read(): Promise<Packet> {
    for (;;) {
      const packet = this.cut();
      if (packet) return packet;
      if (this.failure) throw this.failure;
      if (this.closed) throw new PeerClosed(this.peer);
      if (this.signal.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('session ended');
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.signal.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        this.signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Writes `payload` framed with the next sequence id of this exchange. */
  write(payload: Uint8Array): void {
    this.socket.write(encodePacket(this.nextSequenceId, payload));
    this.nextSequenceId = (this.nextSequenceId + 1) & 0xff;
  }

  /** Bytes arrived beyond the packets read so far. */
  get hasBufferedPackets(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Hands the socket on (to TLS or the relay), paused, with the bytes received beyond the last packet read put back
   * in front of its stream: TLSSocket and the relay's 'data' handler read them first.
   */
  detach(): void {
    this.detachListeners();
    this.socket.pause();
    if (this.pending.length > 0) this.socket.unshift(this.pending);
    this.pending = Buffer.alloc(0);
  }

  /** Continues on an upgraded socket; the sequence numbering of the exchange carries on. */
  rebind(socket: Socket): void {
    this.detachListeners();
    this.socket = socket;
    this.pending = Buffer.alloc(0);
    this.closed = false;
    this.attach();
  }
}
