// The relay tap's framer (STYLE rules 4–6). The relay forwards every chunk verbatim; this walks the same bytes
// alongside, one header (type byte + int32 length) at a time, and hands the tap only the bodies it asked for.
// Unwanted messages (DataRow, CopyData) are counted and skipped across chunks without being kept, so a 200 MB row
// never sits in memory; a wanted message inside one chunk is a zero-copy view; only a wanted message split across
// chunks is gathered, into one reusable buffer that grows with the bytes that actually arrive (a lying length costs
// nothing until the bytes come) and is dropped after use when it grew past `retainBytes`.
import { WireFormatError } from '../shared/wire-format-error.js';
import { describeMessageType, pgLimits } from './codes.js';

/**
 * Called once per message, when its last byte has been pushed. `body` (without type and length) is given only for
 * wanted types and is a view valid during the call only: copy or decode what must outlive it. `totalLength` is the
 * message's size on the wire, type byte included (1 + declared length).
 */
export type FrameHandler = (type: number, body: Uint8Array | undefined, totalLength: number) => void;

export interface FrameScannerOptions {
  /** Largest declared length accepted (the int32 after the type byte, which counts itself but not the type byte). */
  readonly maxMessageBytes: number;
  /**
   * Which types have their body delivered: a predicate (asked once per type byte, at construction), or a 256-entry
   * table indexed by type byte, non-zero meaning wanted, which the scanner reads live (a change applies from the
   * next header on). A table built once (`typeTable`) and shared by every session costs nothing per scanner.
   */
  readonly wants: ((type: number) => boolean) | Uint8Array;
  /**
   * Lower caps for particular types, same unit as `maxMessageBytes` (e.g. control messages, as the server does).
   * Treat the object as immutable: its table is built once and cached.
   */
  readonly typeLimits?: Readonly<Partial<Record<number, number>>>;
  /**
   * Which type bytes may start a message at all (a 256-entry table, non-zero meaning valid); others fail as soon as
   * their type byte arrives, before any of the chunk is relayed. Undefined: every type is valid.
   */
  readonly validTypes?: Uint8Array;
  /** A gathering buffer larger than this is released after its message (idle sessions stay small). Default 8 KiB. */
  readonly retainBytes?: number;
  readonly onMessage: FrameHandler;
}

/** A 256-entry wants table from a list of type bytes. */
export function typeTable(types: Iterable<number>): Uint8Array {
  const table = new Uint8Array(256);
  for (const type of types) table[type & 0xff] = 1;
  return table;
}

// Two scanners per session: a 1 KiB table each would be a tenth of the idle-session budget (DESIGN §8), so tables
// are built once per (typeLimits object, maximum) and shared.
const limitTables = new WeakMap<object, Map<number, Uint32Array>>();

function limitTable(typeLimits: Readonly<Partial<Record<number, number>>>, max: number): Uint32Array {
  let byMax = limitTables.get(typeLimits);
  if (byMax === undefined) {
    byMax = new Map();
    limitTables.set(typeLimits, byMax);
  }
  let table = byMax.get(max);
  if (table === undefined) {
    table = new Uint32Array(256).fill(max);
    for (const [key, limit] of Object.entries(typeLimits)) {
      const type = Number(key);
      if (!Number.isInteger(type) || type < 0 || type > 255 || limit === undefined) continue;
      table[type] = Math.max(pgLimits.messageMinLength, Math.min(max, limit));
    }
    byMax.set(max, table);
  }
  return table;
}

const HEADER = 0;
const SKIP = 1;
const GATHER = 2;
const HEADER_BYTES = 5;
const MIN_GATHER_CAPACITY = 256;

export class FrameScanner {
  private readonly wanted: Uint8Array;
  /** Per-type caps, shared between scanners built from the same `typeLimits` and maximum; undefined: the maximum for all. */
  private readonly limits: Uint32Array | undefined;
  private readonly maxMessageBytes: number;
  private readonly validTypes: Uint8Array | undefined;
  private readonly retainBytes: number;
  private readonly onMessage: FrameHandler;

  private phase = HEADER;
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  /** Current message (SKIP / GATHER): type byte, declared length, body bytes still to come. */
  private type = 0;
  private declared = 0;
  private remaining = 0;
  private gather: Buffer | undefined;
  private gatherFill = 0;
  private busy = false;
  private failure: WireFormatError | undefined;

  constructor(options: FrameScannerOptions) {
    const max = options.maxMessageBytes;
    if (!Number.isInteger(max) || max < pgLimits.messageMinLength || max > 0x7fffffff) {
      throw new RangeError(`maxMessageBytes must be an integer in 4..2^31-1, got ${max}`);
    }
    const { wants } = options;
    if (typeof wants === 'function') {
      this.wanted = new Uint8Array(256);
      for (let type = 0; type < 256; type++) this.wanted[type] = wants(type) ? 1 : 0;
    } else {
      if (wants.length !== 256) throw new RangeError(`wants table must have 256 entries, got ${wants.length}`);
      this.wanted = wants;
    }
    if (options.validTypes !== undefined && options.validTypes.length !== 256) {
      throw new RangeError(`validTypes table must have 256 entries, got ${options.validTypes.length}`);
    }
    this.validTypes = options.validTypes;
    this.maxMessageBytes = max;
    this.limits = options.typeLimits === undefined ? undefined : limitTable(options.typeLimits, max);
    this.retainBytes = options.retainBytes ?? 8192;
    this.onMessage = options.onMessage;
  }

  /** Bytes held for a message not yet complete (header bytes plus a partial wanted body). Skipped bytes are never held. */
  get bufferedBytes(): number {
    return this.headerFill + this.gatherFill;
  }

  /** Capacity of the gathering buffer currently kept (0 when none). */
  get bufferCapacity(): number {
    return this.gather?.length ?? 0;
  }

  /** True between messages: nothing of a next message has arrived yet. */
  get atBoundary(): boolean {
    return this.phase === HEADER && this.headerFill === 0;
  }

  /**
   * Scans one chunk synchronously, calling onMessage for each message it completes. Throws only WireFormatError
   * (bad length, or a previous failure: the scanner stays failed, since the stream has lost its framing). An
   * exception from onMessage propagates and leaves the scanner failed too.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.busy) throw this.fail('push while a previous push is unfinished (re-entrant call or a throwing onMessage)');
    this.busy = true;
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.phase === SKIP) {
        const count = Math.min(this.remaining, end - pos);
        pos += count;
        this.remaining -= count;
        if (this.remaining === 0) {
          this.phase = HEADER;
          this.onMessage(this.type, undefined, this.declared + 1);
        }
        continue;
      }
      if (this.phase === GATHER) {
        pos = this.gatherFrom(chunk, pos);
        continue;
      }
      let type: number;
      let declared: number;
      if (this.headerFill === 0 && end - pos >= HEADER_BYTES) {
        type = chunk[pos] as number;
        declared = ((chunk[pos + 1] as number) << 24) | ((chunk[pos + 2] as number) << 16)
          | ((chunk[pos + 3] as number) << 8) | (chunk[pos + 4] as number);
        this.checkType(type);
        pos += HEADER_BYTES;
      } else {
        if (this.headerFill === 0) this.checkType(chunk[pos] as number);
        const count = Math.min(HEADER_BYTES - this.headerFill, end - pos);
        this.header.set(chunk.subarray(pos, pos + count), this.headerFill);
        this.headerFill += count;
        pos += count;
        if (this.headerFill < HEADER_BYTES) break;
        this.headerFill = 0;
        const h = this.header;
        type = h[0] as number;
        declared = ((h[1] as number) << 24) | ((h[2] as number) << 16) | ((h[3] as number) << 8) | (h[4] as number);
      }
      // `declared` is a signed int32: a length of 2^31 or more reads as negative and fails the first test.
      if (declared < pgLimits.messageMinLength) {
        throw this.fail(`message ${describeMessageType(type)} declares length ${declared}, below the minimum of 4`);
      }
      const limit = this.limits === undefined ? this.maxMessageBytes : (this.limits[type] as number);
      if (declared > limit) {
        throw this.fail(`message ${describeMessageType(type)} declares length ${declared}, over the limit of ${limit}`);
      }
      const bodyLength = declared - 4;
      const available = end - pos;
      if (this.wanted[type] !== 0) {
        if (available >= bodyLength) {
          const body = chunk.subarray(pos, pos + bodyLength);
          pos += bodyLength;
          this.onMessage(type, body, declared + 1);
          continue;
        }
        this.type = type;
        this.declared = declared;
        this.remaining = bodyLength;
        this.phase = GATHER;
        pos = this.gatherFrom(chunk, pos);
      } else {
        if (available >= bodyLength) {
          pos += bodyLength;
          this.onMessage(type, undefined, declared + 1);
          continue;
        }
        this.type = type;
        this.declared = declared;
        this.remaining = bodyLength - available;
        this.phase = SKIP;
        pos = end;
      }
    }
    this.busy = false;
  }

  /** Copies what this chunk holds of the gathered message; delivers it when complete. Returns the new position. */
  private gatherFrom(chunk: Uint8Array, pos: number): number {
    const count = Math.min(this.remaining, chunk.length - pos);
    if (count === 0) return pos;
    const needed = this.gatherFill + count;
    let buffer = this.gather;
    if (buffer === undefined || buffer.length < needed) {
      // Double, but never past the declared body: capacity follows the bytes that arrived, not the length claimed.
      const doubled = Math.max(MIN_GATHER_CAPACITY, (buffer?.length ?? 0) * 2);
      const grown = Buffer.allocUnsafeSlow(Math.min(this.gatherFill + this.remaining, Math.max(needed, doubled)));
      if (buffer !== undefined && this.gatherFill > 0) grown.set(buffer.subarray(0, this.gatherFill));
      buffer = grown;
      this.gather = grown;
    }
    buffer.set(chunk.subarray(pos, pos + count), this.gatherFill);
    this.gatherFill = needed;
    this.remaining -= count;
    if (this.remaining === 0) {
      const body = buffer.subarray(0, this.gatherFill);
      this.phase = HEADER;
      this.gatherFill = 0;
      if (buffer.length > this.retainBytes) this.gather = undefined;
      this.onMessage(this.type, body, this.declared + 1);
    }
    return pos + count;
  }

  private checkType(type: number): void {
    if (this.validTypes !== undefined && this.validTypes[type] === 0) {
      throw this.fail(`invalid message type ${describeMessageType(type)}`);
    }
  }

  private fail(message: string): WireFormatError {
    this.failure = new WireFormatError(message);
    return this.failure;
  }
}
