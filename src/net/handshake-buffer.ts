// The bytes a peer sends during a handshake phase (startup, TLS negotiation, authentication), before a relay takes the
// socket. Both engines read their handshake packets from this: these packets are few and small, so joining chunks
// is cheap here; the relay path uses the protocols' frame scanners instead.
import type { Socket } from 'node:net';

export class HandshakeBuffer {
  private pending: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    // A peer sending far more than any handshake packet needs waits until something is read (a hostile flood).
    if (this.pending.length > this.pauseAboveBytes) this.current.pause();
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

  constructor(private current: Socket, private readonly signal: AbortSignal, private readonly pauseAboveBytes = Number.POSITIVE_INFINITY) {
    this.attach();
  }

  get socket(): Socket {
    return this.current;
  }

  /** What arrived and was not taken yet (a view: copy before keeping it). */
  get bytes(): Buffer {
    return this.pending;
  }

  get peerClosed(): boolean {
    return this.closed;
  }

  /** The first `count` bytes, copied, removed from the buffer. */
  take(count: number): Buffer {
    const out = Buffer.from(this.pending.subarray(0, count));
    this.pending = this.pending.subarray(count);
    return out;
  }

  /** Waits for more bytes; rejects with the socket's error, `closedError()` once the peer is gone, or the abort reason. */
  async waitForBytes(closedError: () => Error): Promise<void> {
    this.throwIfDone(closedError);
    this.current.resume();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      this.signal.addEventListener('abort', done, { once: true });
    });
    if (this.failure) throw this.failure;
    if (this.signal.aborted) throw this.abortReason();
  }

  /** Hands the socket on (to TLS or the relay), paused, with the bytes received but not taken. */
  detach(): Buffer {
    this.detachListeners();
    this.current.pause();
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  /** Continues on an upgraded socket (after TLS). */
  rebind(socket: Socket): void {
    this.detachListeners();
    this.current = socket;
    this.pending = Buffer.alloc(0);
    this.closed = false;
    this.attach();
  }

  private throwIfDone(closedError: () => Error): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw closedError();
    if (this.signal.aborted) throw this.abortReason();
  }

  private abortReason(): Error {
    return this.signal.reason instanceof Error ? this.signal.reason : new Error('session ended');
  }

  private attach(): void {
    this.current.on('data', this.onData);
    this.current.on('end', this.onEnd);
    this.current.on('close', this.onEnd);
    this.current.on('error', this.onError);
    this.current.resume();
  }

  private detachListeners(): void {
    this.current.off('data', this.onData);
    this.current.off('end', this.onEnd);
    this.current.off('close', this.onEnd);
    this.current.off('error', this.onError);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
