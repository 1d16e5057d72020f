import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../protocols/shared/byte-reader.js';
import { ByteWriter } from '../../protocols/shared/byte-writer.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import {
  readLenencBigInt, readLenencBytes, readLenencInt, readLenencIntOrNull, writeLenencInt, writeLenencString,
} from '../../protocols/mysql/lenenc.js';
import {
  encodePacket, PacketFramer, PacketSequenceError, PacketTooLargeError, sequenceIdAfter, type PacketFramerOptions,
} from '../../protocols/mysql/packet-framer.js';
import { cat, frame, hex, MAX_FRAME, packet } from '../support/mysql-frames.js';

interface Seen { seq: number; digest: string; length: number; payloadLength: number; frames: number }

const digest = (bytes: Uint8Array): string =>
  bytes.length <= 64 ? Buffer.from(bytes).toString('hex') : `sha1:${createHash('sha1').update(bytes).digest('hex')}`;

function feed(chunks: readonly Uint8Array[], options: PacketFramerOptions = { maxPayloadBytes: 64 * 1024 * 1024 }): Seen[] {
  const seen: Seen[] = [];
  const framer = new PacketFramer((seq, payload, payloadLength, frames) => {
    seen.push({ seq, digest: digest(payload), length: payload.length, payloadLength, frames });
  }, options);
  for (const chunk of chunks) framer.push(chunk);
  expect(framer.isIdle).toBe(true);
  return seen;
}

const splitAt = (bytes: Buffer, ...offsets: number[]): Buffer[] => {
  const cuts = [0, ...offsets, bytes.length];
  return cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
};

// Small golden stream: an empty packet, COM_QUERY "select 1", a 300-byte payload, and seq ids wrapping 255 → 0.
const query = hex('03 73 65 6c 65 63 74 20 31');
const filler = Buffer.alloc(300, 0x61);
const smallStream = cat(frame(0, Buffer.alloc(0)), frame(1, query), packet(2, filler), frame(255, hex('0e')), frame(0, hex('01')));
const smallExpected: Seen[] = [
  { seq: 0, digest: '', length: 0, payloadLength: 0, frames: 1 },
  { seq: 1, digest: query.toString('hex'), length: 9, payloadLength: 9, frames: 1 },
  { seq: 2, digest: digest(filler), length: 300, payloadLength: 300, frames: 1 },
  { seq: 255, digest: '0e', length: 1, payloadLength: 1, frames: 1 },
  { seq: 0, digest: '01', length: 1, payloadLength: 1, frames: 1 },
];

describe('PacketFramer: small golden stream', () => {
  it('decodes the unsplit stream', () => {
    expect(feed([smallStream])).toEqual(smallExpected);
  });

  it('decodes identically split at every byte offset', () => {
    for (let offset = 0; offset <= smallStream.length; offset++) {
      expect(feed(splitAt(smallStream, offset)), `split at ${offset}`).toEqual(smallExpected);
    }
  });

  it('decodes identically split at every pair of offsets near the headers', () => {
    for (let a = 0; a <= 40; a++) {
      for (let b = a; b <= smallStream.length; b += 7) expect(feed(splitAt(smallStream, a, b))).toEqual(smallExpected);
    }
  });

  it('decodes identically fed one byte at a time', () => {
    const bytes = [...smallStream].map((byte) => Buffer.from([byte]));
    expect(feed(bytes)).toEqual(smallExpected);
  });

  it('hands over zero-copy views of the chunk for packets inside it', () => {
    const views: Uint8Array[] = [];
    new PacketFramer((_seq, payload) => views.push(payload), { maxPayloadBytes: 1 << 20 }).push(smallStream);
    expect(views[1]?.buffer).toBe(smallStream.buffer);
    expect(views[1]?.byteOffset).toBe(smallStream.byteOffset + 4 + 4);
  });
});

// Big golden stream: a 16 MiB + 10 payload (2 frames), an exact 0xffffff payload (2 frames, empty trailer), a small one.
const big = Buffer.alloc(MAX_FRAME + 10);
for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
const exact = Buffer.alloc(MAX_FRAME, 0x42);
const bigStream = cat(packet(0, big), packet(254, exact), frame(0, query));
const bigExpected: Seen[] = [
  { seq: 0, digest: digest(big), length: big.length, payloadLength: big.length, frames: 2 },
  { seq: 254, digest: digest(exact), length: MAX_FRAME, payloadLength: MAX_FRAME, frames: 2 },
  { seq: 0, digest: query.toString('hex'), length: 9, payloadLength: 9, frames: 1 },
];
// Frame headers: big (0, then its 10-byte tail), exact (its full frame, then the empty trailer), then the query.
const headerOffsets = [0, 4 + MAX_FRAME, 8 + MAX_FRAME + 10, 12 + 2 * MAX_FRAME + 10, 16 + 2 * MAX_FRAME + 10];

describe('PacketFramer: 16 MiB continuation', () => {
  it('the builder frames as the docs say', () => {
    expect(bigStream.length).toBe(big.length + 8 + MAX_FRAME + 8 + 13);
    expect(bigStream.subarray(headerOffsets[1], (headerOffsets[1] ?? 0) + 4)).toEqual(hex('0a 00 00 01'));
    expect(bigStream.subarray(headerOffsets[3], (headerOffsets[3] ?? 0) + 4)).toEqual(hex('00 00 00 ff'));
    expect(bigStream.subarray(headerOffsets[4], (headerOffsets[4] ?? 0) + 4)).toEqual(hex('09 00 00 00'));
  });

  it('reassembles unsplit, and split at sampled offsets around every frame boundary', () => {
    expect(feed([bigStream])).toEqual(bigExpected);
    const offsets = new Set<number>([1, 2, 3, bigStream.length - 1]);
    for (const header of headerOffsets) for (let d = -3; d <= 5; d++) offsets.add(header + d);
    for (const offset of offsets) {
      if (offset <= 0 || offset >= bigStream.length) continue;
      expect(feed(splitAt(bigStream, offset)), `split at ${offset}`).toEqual(bigExpected);
    }
  });

  it('reassembles from 64 KiB socket-sized chunks and releases the buffer afterwards', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bigStream.length; i += 65536) chunks.push(bigStream.subarray(i, i + 65536));
    const seen: Seen[] = [];
    const framer = new PacketFramer((seq, payload, payloadLength, frames) => {
      seen.push({ seq, digest: digest(payload), length: payload.length, payloadLength, frames });
    }, { maxPayloadBytes: 64 << 20 });
    for (const chunk of chunks) framer.push(chunk);
    expect(seen).toEqual(bigExpected);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('tap mode keeps only the first retainBytes, reports the true length, split anywhere', () => {
    const options = { maxPayloadBytes: Number.MAX_SAFE_INTEGER, retainBytes: 1000 };
    const expected = [
      { seq: 0, digest: digest(big.subarray(0, 1000)), length: 1000, payloadLength: big.length, frames: 2 },
      { seq: 254, digest: digest(exact.subarray(0, 1000)), length: 1000, payloadLength: MAX_FRAME, frames: 2 },
      { seq: 0, digest: query.toString('hex'), length: 9, payloadLength: 9, frames: 1 },
    ];
    for (const offset of [0, 500, 1003, 1004, 1005, ...headerOffsets.map((h) => h + 2)]) {
      const seen: Seen[] = [];
      const framer = new PacketFramer((seq, payload, payloadLength, frames) => {
        seen.push({ seq, digest: digest(payload), length: payload.length, payloadLength, frames });
        expect(framer.bufferedBytes).toBeLessThanOrEqual(1000);
      }, options);
      for (const chunk of splitAt(bigStream, offset)) framer.push(chunk);
      expect(seen).toEqual(expected);
    }
  });
});

describe('PacketFramer: limits and sequence ids', () => {
  it('refuses a declared length beyond the cap from the header alone, buffering nothing', () => {
    const framer = new PacketFramer(() => undefined, { maxPayloadBytes: 999 });
    expect(() => framer.push(hex('e8 03 00 00'))).toThrow(PacketTooLargeError);
    expect(framer.bufferedBytes).toBe(0);
    expect(() => framer.push(hex('00'))).toThrow(WireFormatError); // stays failed
  });

  it('counts continuation frames against the cap as their headers arrive', () => {
    const framer = new PacketFramer(() => undefined, { maxPayloadBytes: MAX_FRAME + 5 });
    framer.push(cat(frame(0, exact)));
    let error: unknown;
    try { framer.push(hex('06 00 00 01')); } catch (caught) { error = caught; }
    expect(error).toBeInstanceOf(PacketTooLargeError);
    expect(error).toMatchObject({ declaredBytes: MAX_FRAME + 6, maxPayloadBytes: MAX_FRAME + 5 });
  });

  it('reports a wrong sequence id as a WireFormatError when checking', () => {
    const framer = new PacketFramer(() => undefined, { maxPayloadBytes: 1024, checkSequence: true });
    framer.push(frame(0, query));
    expect(framer.nextSequenceId).toBe(1);
    expect(() => framer.push(frame(3, query))).toThrow(PacketSequenceError);
    expect(() => framer.push(frame(3, query))).toThrow(/expected 1/);
  });

  it('checks every frame of a continuation and follows expectSequenceId', () => {
    const good = new PacketFramer(() => undefined, { maxPayloadBytes: 64 << 20, checkSequence: true, firstSequenceId: 254 });
    good.push(packet(254, exact));
    expect(good.nextSequenceId).toBe(0);
    good.expectSequenceId(1);
    good.push(frame(1, query));
    const bad = new PacketFramer(() => undefined, { maxPayloadBytes: 64 << 20, checkSequence: true });
    expect(() => bad.push(cat(frame(0, exact), frame(2, Buffer.alloc(0))))).toThrow(PacketSequenceError);
    // Without checking, the same stream is accepted (mysql2's behaviour) and the id is still tracked.
    const lax = new PacketFramer(() => undefined, { maxPayloadBytes: 64 << 20 });
    lax.push(cat(frame(0, exact), frame(2, Buffer.alloc(0))));
    expect(lax.nextSequenceId).toBe(3);
  });
});

describe('encodePacket', () => {
  it.each([0, 1, 300, MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1, 2 * MAX_FRAME])('frames a %i-byte payload like the docs', (size) => {
    const payload = Buffer.alloc(size, 0x5a);
    expect(encodePacket(7, payload).equals(packet(7, payload))).toBe(true);
    expect(sequenceIdAfter(7, size)).toBe((7 + Math.floor(size / MAX_FRAME) + 1) & 0xff);
  });

  it('wraps sequence ids at 256', () => {
    const out = encodePacket(255, Buffer.alloc(MAX_FRAME));
    expect(out[3]).toBe(255);
    expect(out.subarray(4 + MAX_FRAME)).toEqual(hex('00 00 00 00'));
  });
});

describe('lenenc', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'], [250, 'fa'], [251, 'fc fb 00'], [0xffff, 'fc ff ff'], [0x10000, 'fd 00 00 01'],
    [0xffffff, 'fd ff ff ff'], [0x1000000, 'fe 00 00 00 01 00 00 00 00'], [0xffffffffffffffffn, 'fe ff ff ff ff ff ff ff ff'],
  ];

  it.each(cases)('writes %s minimally as %s and reads it back', (value, bytes) => {
    expect(writeLenencInt(new ByteWriter(), value).toBuffer()).toEqual(hex(bytes));
    expect(readLenencBigInt(new ByteReader(hex(bytes)), 'n')).toBe(BigInt(value));
  });

  it('reads the non-minimal forms servers may send', () => {
    expect(readLenencInt(new ByteReader(hex('fc 05 00')), 'n')).toBe(5);
    expect(readLenencInt(new ByteReader(hex('fe 05 00 00 00 00 00 00 00')), 'n')).toBe(5);
  });

  it('reads 0xfb as NULL and refuses 0xff, a truncated prefix and numbers beyond 2^53', () => {
    expect(readLenencIntOrNull(new ByteReader(hex('fb')), 'n')).toBeNull();
    expect(() => readLenencInt(new ByteReader(hex('fb')), 'n')).toThrow(WireFormatError);
    expect(() => readLenencInt(new ByteReader(hex('ff')), 'n')).toThrow(WireFormatError);
    expect(() => readLenencInt(new ByteReader(hex('fd 01 02')), 'n')).toThrow(WireFormatError);
    expect(() => readLenencInt(new ByteReader(hex('fe 00 00 00 00 00 00 20 00')), 'n')).toThrow(/beyond 2\^53/);
  });

  it('checks a string length against what remains before reading', () => {
    expect(writeLenencString(new ByteWriter(), 'héllo').toBuffer()).toEqual(hex('06 68 c3 a9 6c 6c 6f'));
    expect(() => readLenencBytes(new ByteReader(hex('fd ff ff ff 41')), 's')).toThrow(/needs 16777215 bytes, 1 left/);
  });
});
