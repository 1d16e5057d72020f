// The double's time: the real clock plus an offset tests can push forward (`advance`), and timers that fire when the
// double's time reaches them, whichever way it got there. Every TTL, expiry and retry in the double uses it.

interface Timer {
  readonly due: number;
  readonly run: () => void;
}

/** setTimeout overflows at 2^31 ms; long timers are re-armed in steps. */
const MAX_STEP_MS = 60 * 60_000;

export class DoubleClock {
  #offsetMs = 0;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();
  #armed: NodeJS.Timeout | undefined;
  #closed = false;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the double's time forward; every timer now due fires (in due order) before this returns. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error('the double clock only moves forward');
    this.#offsetMs += ms;
    this.#fire();
  }

  /** Runs `run` when the double's time reaches `due` (ms); returns a handle for cancel(). */
  at(due: number, run: () => void): number {
    const id = this.#nextId++;
    this.#timers.set(id, { due, run });
    this.#arm();
    return id;
  }

  cancel(handle: number | undefined): void {
    if (handle === undefined) return;
    this.#timers.delete(handle);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#armed);
    this.#timers.clear();
  }

  #fire(): void {
    const now = this.now();
    const due = [...this.#timers.entries()].filter(([, timer]) => timer.due <= now).sort(([, a], [, b]) => a.due - b.due);
    for (const [id, timer] of due) {
      if (!this.#timers.delete(id)) continue;
      try {
        timer.run();
      } catch {
        // A timer's own failure is its business (the expiry engine records it); the clock keeps going.
      }
    }
    this.#arm();
  }

  #arm(): void {
    clearTimeout(this.#armed);
    this.#armed = undefined;
    if (this.#closed || this.#timers.size === 0) return;
    let soonest = Infinity;
    for (const timer of this.#timers.values()) soonest = Math.min(soonest, timer.due);
    const delay = Math.min(MAX_STEP_MS, Math.max(0, soonest - this.now()));
    this.#armed = setTimeout(() => this.#fire(), delay);
    this.#armed.unref();
  }
}
