// A value that must never be printed: tokens, lease passwords, API keys. Every way Node turns an object into text
// (JSON.stringify, String(), template literals, util.inspect, console.log, pino) yields the placeholder instead.
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

export class Secret<T = string> {
  // A private field is invisible to Object.keys, spread, structured logging and inspect's own walk.
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** The real value: call it only where it is handed to the system that needs it (a driver, a hash compare). */
  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
