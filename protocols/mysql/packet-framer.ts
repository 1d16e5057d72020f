// MySQL packet framing (dev.mysql.com "MySQL Packets"): each frame is a 3-byte little-endian payload length, a 1-byte
// sequence id, then the payload. A payload of 2^24 − 1 bytes or more is split: every frame of exactly 0xffffff bytes
// means "more follows", ending with a shorter frame — an empty one when the payload is an exact multiple.
//
// The framer is fed chunks as they arrive and calls back once per logical packet (all its frames joined):
// - a packet that lies wholly inside one chunk is handed over as a view of that chunk (no copy);
// - a packet split across chunks or frames is copied into one reusable buffer that is sized from the frame
//   header (exactly, for the last frame), so a large payload is joined once, never concatenated per chunk;
// - every declared length is checked against `maxPayloadBytes` when its header arrives, before a byte is buffered;
// - in tap mode (`retainBytes`) only a payload's first bytes are kept; the rest is counted and skipped, so a 20 MB
//   BLOB INSERT costs `retainBytes` of memory while its true length is still reported.
// Views are valid only during the callback (STYLE rule 5): copy or decode what must outlive it.
import { WireFormatError } from '../shared/wire-format-error.js';
import { MAX_FRAME_PAYLOAD } from './constants.js';

const HEADER_BYTES = 4;
/** A reassembly buffer larger than this is dropped after its packet, so an idle session holds no big buffer. */
const KEEP_ASSEMBLY_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** A declared payload beyond the cap: the engine answers ER_NET_PACKET_TOO_LARGE (1153) and closes. */
export class PacketTooLargeError extends WireFormatError {
  constructor(readonly declaredBytes: number, readonly maxPayloadBytes: number) {
    super(`packet payload of at least ${declaredBytes} bytes exceeds the ${maxPayloadBytes}-byte limit`);
    this.name = 'PacketTooLargeError';
  }
}

/** A frame whose sequence id is not the expected one (Vitess treats this as fatal; so do we). */
export class PacketSequenceError extends WireFormatError {
  constructor(readonly expected: number, readonly received: number) {
    super(`packet sequence id ${received}, expected ${expected}`);
    this.name = 'PacketSequenceError';
  }
}

/**
 * One logical packet. `payload` is the whole payload, or its first `retainBytes` in tap mode: it is shorter than
 * `payloadLength` exactly when bytes were skipped. `sequenceId` is the first frame's; the packet used `frameCount`
 * consecutive ids.
 */
export type PacketHandler = (sequenceId: number, payload: Uint8Array, payloadLength: number, frameCount: number) => void;

export interface PacketFramerOptions {
  /** Largest joined payload accepted; a larger declared length is a PacketTooLargeError. */
  readonly maxPayloadBytes: number;
  /** Tap mode: keep at most this many leading payload bytes per packet; the rest is only counted. */
  readonly retainBytes?: number;
  /** Fail with PacketSequenceError on an unexpected sequence id (see `expectSequenceId`). */
  readonly checkSequence?: boolean;
  /** The sequence id the first frame must carry when checking (default 0). */
  readonly firstSequenceId?: number;
}

export class PacketFramer {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private inBody = false;
  private frameLength = 0;
  private frameRemaining = 0;
  private frameCount = 0;
  private packetSequenceId = 0;
  private packetLength = 0;
  private assembly: Buffer = EMPTY;
  private assembled = 0;
  private expected: number;
  private failure: WireFormatError | null = null;
  private readonly maxPayloadBytes: number;
  private readonly retain: number;
  private readonly checkSequence: boolean;

  constructor(private readonly onPacket: PacketHandler, options: PacketFramerOptions) {
    if (!(options.maxPayloadBytes >= 0)) throw new RangeError(`maxPayloadBytes must be >= 0: ${options.maxPayloadBytes}`);
    const retain = options.retainBytes ?? Number.POSITIVE_INFINITY;
    if (!(retain >= 0)) throw new RangeError(`retainBytes must be >= 0: ${retain}`);
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.retain = retain;
    this.checkSequence = options.checkSequence ?? false;
    this.expected = (options.firstSequenceId ?? 0) & 0xff;
  }

  /**
   * Sets the sequence id the next frame must carry: 0 before a client command, 1 before its response, or the next id
   * of a multi-round-trip exchange. May be called from inside the callback (it applies to the very next frame).
   */
  expectSequenceId(sequenceId: number): void {
    this.expected = sequenceId & 0xff;
  }

  /** The id after the last frame seen (what a reply to that packet must use); tracked even when not checking. */
  get nextSequenceId(): number {
    return this.expected;
  }

  /** True between packets: nothing partial is pending. */
  get isIdle(): boolean {
    return !this.inBody && this.headerFill === 0 && this.frameCount === 0;
  }

  /** Bytes of reassembly buffer currently held (for memory accounting and tests). */
  get bufferedBytes(): number {
    return this.assembly.length;
  }

  /** Feeds one chunk; calls back synchronously for every packet it completes. After a framing error, always throws. */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (!this.inBody) {
        let length: number;
        let sequenceId: number;
        if (this.headerFill === 0 && end - pos >= HEADER_BYTES) {
          length = (chunk[pos] as number) | ((chunk[pos + 1] as number) << 8) | ((chunk[pos + 2] as number) << 16);
          sequenceId = chunk[pos + 3] as number;
          pos += HEADER_BYTES;
        } else {
          const take = Math.min(HEADER_BYTES - this.headerFill, end - pos);
          this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
          this.headerFill += take;
          pos += take;
          if (this.headerFill < HEADER_BYTES) return;
          this.headerFill = 0;
          const h = this.header;
          length = (h[0] as number) | ((h[1] as number) << 8) | ((h[2] as number) << 16);
          sequenceId = h[3] as number;
        }
        this.beginFrame(length, sequenceId);
        if (this.frameCount === 1 && length < MAX_FRAME_PAYLOAD && end - pos >= length) {
          // The whole packet is in this chunk: hand over a view, copy nothing.
          const view = chunk.subarray(pos, pos + Math.min(length, this.retain));
          pos += length;
          this.frameCount = 0;
          this.onPacket(sequenceId, view, length, 1);
          continue;
        }
        this.inBody = true;
        this.frameRemaining = length;
        this.reserve();
        if (length === 0) {
          this.endFrame();
          continue;
        }
      }
      const take = Math.min(this.frameRemaining, end - pos);
      const keep = Math.min(take, this.retain - this.assembled);
      if (keep > 0) {
        this.assembly.set(chunk.subarray(pos, pos + keep), this.assembled);
        this.assembled += keep;
      }
      pos += take;
      this.frameRemaining -= take;
      if (this.frameRemaining === 0) this.endFrame();
    }
  }

  private fail(error: WireFormatError): WireFormatError {
    this.failure = error;
    return error;
  }

  private beginFrame(length: number, sequenceId: number): void {
    if (this.checkSequence && sequenceId !== this.expected) throw this.fail(new PacketSequenceError(this.expected, sequenceId));
    this.expected = (sequenceId + 1) & 0xff;
    if (this.frameCount === 0) {
      this.packetSequenceId = sequenceId;
      this.packetLength = 0;
      this.assembled = 0;
    }
    this.frameCount++;
    this.packetLength += length;
    if (this.packetLength > this.maxPayloadBytes) {
      throw this.fail(new PacketTooLargeError(this.packetLength, this.maxPayloadBytes));
    }
    this.frameLength = length;
  }

  /** Makes room for this frame's retained bytes: exactly, when it is the last frame; doubling while frames follow. */
  private reserve(): void {
    const want = Math.min(this.packetLength, this.retain);
    const current = this.assembly.length;
    if (want <= current) return;
    const lastFrame = this.frameLength < MAX_FRAME_PAYLOAD;
    const ceiling = Math.min(this.retain, this.maxPayloadBytes);
    const capacity = lastFrame ? want : Math.min(Math.max(want, current * 2), ceiling);
    const grown = Buffer.allocUnsafe(capacity);
    if (this.assembled > 0) this.assembly.copy(grown, 0, 0, this.assembled);
    this.assembly = grown;
  }

  private endFrame(): void {
    this.inBody = false;
    if (this.frameLength === MAX_FRAME_PAYLOAD) return; // a full frame: the payload continues in the next one
    const view = this.assembly.subarray(0, this.assembled);
    const sequenceId = this.packetSequenceId;
    const payloadLength = this.packetLength;
    const frameCount = this.frameCount;
    this.frameCount = 0;
    this.onPacket(sequenceId, view, payloadLength, frameCount);
    if (this.assembly.length > KEEP_ASSEMBLY_BYTES && this.frameCount === 0) this.assembly = EMPTY;
  }
}

/** Frames needed for a payload: a multiple of 0xffffff ends with an empty frame. */
export function packetFrameCount(payloadLength: number): number {
  return Math.floor(payloadLength / MAX_FRAME_PAYLOAD) + 1;
}

/** The sequence id that follows a packet of `payloadLength` bytes sent with `sequenceId`. */
export function sequenceIdAfter(sequenceId: number, payloadLength: number): number {
  return (sequenceId + packetFrameCount(payloadLength)) & 0xff;
}

/** Frames one payload (split at 0xffffff, sequence ids incrementing and wrapping at 256) into a single new buffer. */
export function encodePacket(sequenceId: number, payload: Uint8Array): Buffer {
  const frames = packetFrameCount(payload.length);
  const out = Buffer.allocUnsafe(payload.length + frames * HEADER_BYTES);
  let seq = sequenceId & 0xff;
  let src = 0;
  let dst = 0;
  for (let i = 0; i < frames; i++) {
    const length = Math.min(MAX_FRAME_PAYLOAD, payload.length - src);
    out.writeUIntLE(length, dst, 3);
    out[dst + 3] = seq;
    dst += HEADER_BYTES;
    out.set(payload.subarray(src, src + length), dst);
    dst += length;
    src += length;
    seq = (seq + 1) & 0xff;
  }
  return out;
}
