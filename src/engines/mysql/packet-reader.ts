// Reads whole MySQL packets from a socket during the handshake phases (client greeting reply, auth round trips, the
// upstream login). These packets are small; the relay uses its own tap framers instead.
import type { Socket } from 'node:net';
import { encodePacket, PacketFramer } from '../../../protocols/mysql/packet-framer.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';

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
  private readonly packets: Packet[] = [];
  private framer: PacketFramer;
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;
  /** Sequence id for the next packet this side writes. */
  nextSequenceId = 0;
  private readonly onData = (chunk: Buffer): void => {
    try {
      this.framer.push(chunk);
    } catch (error) {
      this.failure = error instanceof Error ? error : new WireFormatError(String(error));
    }
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
    this.framer = this.newFramer();
    this.attach();
  }

  private newFramer(): PacketFramer {
    return new PacketFramer((sequenceId, payload) => {
      this.packets.push({ sequenceId, payload: Buffer.from(payload) });
      this.nextSequenceId = (sequenceId + 1) & 0xff;
    }, { maxPayloadBytes: MAX_HANDSHAKE_PAYLOAD });
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

  async read(): Promise<Packet> {
    for (;;) {
      const packet = this.packets.shift();
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

  get hasBufferedPackets(): boolean {
    return this.packets.length > 0 || !this.framer.isIdle;
  }

  /** Hands the socket on (to TLS or the relay). */
  detach(): void {
    this.detachListeners();
    this.socket.pause();
  }

  /** Continues on an upgraded socket; the sequence numbering of the exchange carries on. */
  rebind(socket: Socket): void {
    this.detachListeners();
    this.socket = socket;
    this.framer = this.newFramer();
    this.closed = false;
    this.attach();
  }
}
