// Reads the client's packets during startup and authentication, before the relay takes the socket. These are few
// and small (startup ≤ 10000 bytes, SASL messages a few hundred), so a plain accumulate-then-slice buffer is fine
// here; the relay path uses the frame scanner instead.
import type { Socket } from 'node:net';
import { HandshakeBuffer } from '../../net/handshake-buffer.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import { scanStartupPacket, startupErrors } from '../../../protocols/postgres/startup.js';

/** Auth-phase messages (PasswordMessage, SASL) are tiny; anything larger is hostile. */
const MAX_AUTH_MESSAGE_BYTES = 16 * 1024;

export class ClientClosed extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientClosed';
  }
}

export interface TypedMessage {
  readonly type: number;
  readonly body: Buffer;
}

export class ClientReader {
  private readonly buffer: HandshakeBuffer;

  constructor(socket: Socket, signal: AbortSignal) {
    this.buffer = new HandshakeBuffer(socket, signal, MAX_AUTH_MESSAGE_BYTES * 2);
  }

  private waitForBytes(): Promise<void> {
    return this.buffer.waitForBytes(() => new ClientClosed());
  }

  /** True when the client has sent bytes beyond the packet just read (matters after SSLRequest: CVE-2021-23214). */
  get hasBufferedBytes(): boolean {
    return this.buffer.bytes.length > 0;
  }

  /**
   * An untyped startup-phase packet, whole (length field included); refuses lengths outside 8..10004 at once. A peer
   * that closes before sending anything is ClientClosed (a port probe, or a client that did not like 'N'); one that
   * closes part-way through is an incomplete packet, which the server logs.
   */
  async readStartupPacket(): Promise<Buffer> {
    for (;;) {
      const scan = scanStartupPacket(this.buffer.bytes);
      if (scan.type === 'invalid') throw startupErrors.invalidLength(scan.length);
      if (scan.type === 'complete') return this.buffer.take(scan.length);
      if (this.buffer.peerClosed) throw this.buffer.bytes.length === 0 ? new ClientClosed() : startupErrors.incomplete(this.buffer.bytes.length);
      await this.waitForBytes();
    }
  }

  /** One typed message (type byte + int32 length + body), checked against the auth-phase size cap first. */
  async readTypedMessage(): Promise<TypedMessage> {
    for (;;) {
      const pending = this.buffer.bytes;
      if (pending.length >= 5) {
        const declared = pending.readInt32BE(1);
        if (declared < 4 || declared > MAX_AUTH_MESSAGE_BYTES) {
          throw new WireFormatError(`invalid message length ${declared} during authentication`);
        }
        if (pending.length >= declared + 1) {
          const type = pending[0] as number;
          const message = this.buffer.take(declared + 1);
          return { type, body: message.subarray(5) };
        }
      }
      await this.waitForBytes();
    }
  }

  /** Hands the socket to a new owner (the TLS layer or the relay) with whatever the client already sent. */
  detach(): Buffer {
    return this.buffer.detach();
  }
}
