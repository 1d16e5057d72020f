// Reads the client's packets during startup and authentication, before the relay takes the socket. These are few
// and small (startup ≤ 10000 bytes, SASL messages a few hundred), so a plain accumulate-then-slice buffer is fine
// here; the relay path uses the frame scanner instead.
import type { Socket } from 'node:net';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import { scanStartupPacket } from '../../../protocols/postgres/startup.js';

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
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;
  private error: Error | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.pending.length > MAX_AUTH_MESSAGE_BYTES * 2) this.socket.pause();
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.closed = true;
    this.notify();
  };
  private readonly onError = (error: Error): void => {
    this.error = error;
    this.notify();
  };

  constructor(private socket: Socket, private readonly signal: AbortSignal) {
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

  private async waitForBytes(): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed) throw new ClientClosed();
    if (this.signal.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('session ended');
    this.socket.resume();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      this.signal.addEventListener('abort', done, { once: true });
    });
    if (this.error) throw this.error;
    if (this.signal.aborted) throw this.signal.reason instanceof Error ? this.signal.reason : new Error('session ended');
  }

  private take(count: number): Buffer {
    const out = Buffer.from(this.pending.subarray(0, count));
    this.pending = this.pending.subarray(count);
    return out;
  }

  /** True when the client has sent bytes beyond the packet just read (matters after SSLRequest: CVE-2021-23214). */
  get hasBufferedBytes(): boolean {
    return this.pending.length > 0;
  }

  /** An untyped startup-phase packet, whole (length field included); refuses lengths outside 8..10000 at once. */
  async readStartupPacket(): Promise<Buffer> {
    for (;;) {
      const scan = scanStartupPacket(this.pending);
      if (scan.type === 'invalid') throw new WireFormatError(scan.message);
      if (scan.type === 'complete') return this.take(scan.length);
      if (this.closed && this.pending.length === 0) throw new ClientClosed();
      await this.waitForBytes();
    }
  }

  /** One typed message (type byte + int32 length + body), checked against the auth-phase size cap first. */
  async readTypedMessage(): Promise<TypedMessage> {
    for (;;) {
      if (this.pending.length >= 5) {
        const declared = this.pending.readInt32BE(1);
        if (declared < 4 || declared > MAX_AUTH_MESSAGE_BYTES) {
          throw new WireFormatError(`invalid message length ${declared} during authentication`);
        }
        if (this.pending.length >= declared + 1) {
          const type = this.pending[0] as number;
          const message = this.take(declared + 1);
          return { type, body: message.subarray(5) };
        }
      }
      await this.waitForBytes();
    }
  }

  /** Hands the socket to a new owner (the TLS layer or the relay) with whatever the client already sent. */
  detach(): Buffer {
    this.detachListeners();
    this.socket.pause();
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  /** Continues on an upgraded socket (after TLS). */
  rebind(socket: Socket): void {
    this.detachListeners();
    this.socket = socket;
    this.closed = false;
    this.attach();
  }
}
