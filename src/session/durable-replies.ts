// `audit.durability: fsync` (DESIGN §6: group commit before the result reaches the client). The relay taps a server
// chunk before forwarding it; when that recorded a statement event, the chunk — and every chunk after it, to keep
// their order — waits here until the audit log has the event in both sinks, with the server's socket paused so
// nothing piles up. Chunks are copied when held: upstream reads reuse one buffer per connection. At teardown the gate
// opens (closing sessions are cut at a boundary, not held back by the audit trail).
import type { Socket } from 'node:net';

export class DurableReplyGate {
  /** The newest batch promise recorded and not yet known delivered; batches are delivered in order. */
  #pending: Promise<void> | undefined;
  #held: Buffer[] = [];
  #waiting = false;
  #open = false;

  /**
   * @param onReleased after held chunks were written: the relay may send what waited for a boundary (a notice).
   * @param onFailed the audit log refused the events (it has closed): the session must end.
   */
  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly onReleased: () => void,
    private readonly onFailed: (error: unknown) => void,
  ) {}

  /** The statement recorder's onRecorded: the reply that completed this statement waits for `written`. */
  readonly recorded = (written: Promise<void>): void => {
    if (!this.#open) this.#pending = written;
  };

  /** True while chunks are held: nothing else may be written to the client in between. */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  /**
   * Call after the tap saw `chunk`. False: nothing waits, the caller writes it now. True: the gate holds a copy and
   * writes it once the events recorded so far are delivered.
   */
  hold(chunk: Buffer): boolean {
    if (this.#open || (this.#pending === undefined && this.#held.length === 0)) return false;
    this.#held.push(Buffer.from(chunk));
    if (!this.#waiting) void this.release();
    return true;
  }

  /** Writes what is held now and passes everything through from here on. */
  open(): void {
    this.#open = true;
    this.#pending = undefined;
    this.writeHeld();
    if (this.#waiting) this.upstream.resume();
  }

  private async release(): Promise<void> {
    this.#waiting = true;
    this.upstream.pause();
    try {
      while (this.#pending !== undefined) {
        const waiting = this.#pending;
        await waiting;
        if (this.#pending === waiting) this.#pending = undefined;
      }
    } catch (error) {
      this.#held = [];
      this.#waiting = false;
      this.onFailed(error);
      return;
    }
    this.#waiting = false;
    if (this.#open) return; // open() wrote them
    const flowing = this.writeHeld();
    if (flowing) this.upstream.resume();
    else this.client.once('drain', () => this.upstream.resume());
    this.onReleased();
  }

  /** Returns what the last write returned (false: the client's buffer is full). */
  private writeHeld(): boolean {
    let flowing = true;
    for (const chunk of this.#held) flowing = this.client.write(chunk);
    this.#held = [];
    return flowing;
  }
}
