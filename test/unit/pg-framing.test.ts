import { describe, expect, it } from 'vitest';
import { backendTypeLimits, decodableBackendTypes, decodeBackendMessage } from '../../protocols/postgres/backend.js';
import { FrameScanner, typeTable } from '../../protocols/postgres/frame-scanner.js';
import { decodeFrontendMessage, frontendTypeLimits } from '../../protocols/postgres/frontend.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { bodyOf, bytes, cstr, frame, int16, int32, int8, seededRandom, value } from '../support/pg-frames.js';

interface Seen { type: string; body: string | undefined; total: number }

const letters = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** Feeds `chunks` through a fresh scanner and records every message (bodies copied to hex inside the callback). */
function scan(chunks: readonly Uint8Array[], wants: Uint8Array, maxMessageBytes = 1 << 20): Seen[] {
  const seen: Seen[] = [];
  const scanner = new FrameScanner({
    maxMessageBytes, wants,
    onMessage: (type, body, total) => seen.push({ type: String.fromCharCode(type), body: body && Buffer.from(body).toString('hex'), total }),
  });
  for (const chunk of chunks) scanner.push(chunk);
  expect(scanner.atBoundary).toBe(true);
  return seen;
}

/** What a scanner must report for these messages, from the builder alone. */
const expectedFor = (messages: readonly Buffer[], wants: Uint8Array): Seen[] => messages.map((message) => ({
  type: String.fromCharCode(message[0] as number),
  body: wants[message[0] as number] ? bodyOf(message).toString('hex') : undefined,
  total: message.length,
}));

const frontendMessages = [
  frame('P', cstr('s1'), cstr('select * from orders where id = $1'), int16(1), int32(23)),
  frame('B', cstr(''), cstr('s1'), int16(1), int16(1), int16(1), value(int32(42)), int16(0)),
  frame('D', 'P', cstr('')),
  frame('E', cstr(''), int32(0)),
  frame('P', cstr(''), cstr('update t set x = $1'), int16(0)),
  frame('B', cstr(''), cstr(''), int16(0), int16(1), value('hello'), int16(0)),
  frame('E', cstr(''), int32(0)),
  frame('S'),
  frame('Q', cstr('select 1; select 2')),
  frame('Q', cstr('copy t from stdin')),
  frame('d', '1\tone\n'),
  frame('d', '2\ttwo\n'.repeat(40)),
  frame('d'),
  frame('c'),
  frame('F', int32(1598), int16(0), int16(1), value('x'), int16(0)),
  frame('H'),
  frame('C', 'S', cstr('s1')),
  frame('Q', cstr('')),
  frame('X'),
];
const frontendWants = typeTable(letters('QPBDECSHXFf'));

const dataRow = (...columns: (string | null)[]): Buffer => frame('D', int16(columns.length), ...columns.map(value));
const backendMessages = [
  frame('1'),
  frame('2'),
  frame('T', int16(1), cstr('id'), int32(16384), int16(1), int32(23), int16(4), int32(-1), int16(0)),
  ...Array.from({ length: 12 }, (_, i) => dataRow(String(i), i % 3 === 0 ? null : 'x'.repeat(i * 7))),
  frame('C', cstr('SELECT 12')),
  frame('Z', 'I'),
  frame('N', 'S', cstr('NOTICE'), 'V', cstr('NOTICE'), 'C', cstr('00000'), 'M', cstr('hi'), [0]),
  frame('G', int8(0), int16(1), int16(0)),
  frame('C', cstr('COPY 3')),
  frame('H', int8(0), int16(1), int16(0)),
  frame('d', 'row\n'.repeat(30)),
  frame('c'),
  frame('A', int32(77), cstr('chan'), cstr('payload')),
  frame('E', 'S', cstr('ERROR'), 'V', cstr('ERROR'), 'C', cstr('22012'), 'M', cstr('division by zero'), [0]),
  frame('Z', 'E'),
  frame('S', cstr('TimeZone'), cstr('UTC')),
  frame('I'),
  frame('n'),
  frame('s'),
  frame('3'),
  frame('Z', 'T'),
];
const backendWants = typeTable(decodableBackendTypes);

describe.each([
  ['frontend', frontendMessages, frontendWants],
  ['backend', backendMessages, backendWants],
])('FrameScanner on a golden %s stream', (_name, messages, wants) => {
  const stream = bytes(...messages);
  const expected = expectedFor(messages, wants);

  it('unsplit: every message, bodies for wanted types only', () => {
    expect(scan([stream], wants)).toEqual(expected);
    expect(expected.some((m) => m.body === undefined)).toBe(true);
    expect(expected.some((m) => m.body !== undefined)).toBe(true);
  });

  it('split in two at every byte offset', () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(scan([stream.subarray(0, at), stream.subarray(at)], wants), `split at ${at}`).toEqual(expected);
    }
  });

  it('one byte at a time', () => {
    expect(scan(Array.from(stream, (byte) => Uint8Array.of(byte)), wants)).toEqual(expected);
  });

  it('random chunkings (seeded)', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 200; round++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length;) {
        const size = 1 + Math.floor(random() * 40);
        chunks.push(stream.subarray(at, at + size));
        at += size;
      }
      expect(scan(chunks, wants), `round ${round}`).toEqual(expected);
    }
  });
});

describe('FrameScanner feeds the decoders', () => {
  it('frontend and backend bodies decode as the messages that were built', () => {
    const decodedFrontend: string[] = [];
    new FrameScanner({ maxMessageBytes: 1 << 20, wants: frontendWants, typeLimits: frontendTypeLimits,
      onMessage: (type, body) => { if (body) decodedFrontend.push(decodeFrontendMessage(type, body).type); } }).push(bytes(...frontendMessages));
    expect(decodedFrontend).toEqual(['parse', 'bind', 'describe', 'execute', 'parse', 'bind', 'execute', 'sync', 'query', 'query',
      'function_call', 'flush', 'close', 'query', 'terminate']);
    const decodedBackend: string[] = [];
    new FrameScanner({ maxMessageBytes: 1 << 20, wants: backendWants, typeLimits: backendTypeLimits,
      onMessage: (type, body) => { if (body) decodedBackend.push(decodeBackendMessage(type, body).type); } }).push(bytes(...backendMessages));
    expect(decodedBackend).toEqual(['parse_complete', 'bind_complete', 'command_complete', 'ready_for_query', 'notice_response',
      'copy_in_response', 'command_complete', 'copy_out_response', 'error_response', 'ready_for_query', 'parameter_status',
      'empty_query_response', 'no_data', 'portal_suspended', 'close_complete', 'ready_for_query']);
  });
});

describe('FrameScanner memory and copying', () => {
  it('skips a DataRow larger than its chunks without buffering it', () => {
    const big = dataRow('x'.repeat(1 << 20));
    const stream = bytes(frame('C', cstr('SELECT 0')), big, frame('Z', 'I'));
    const seen: Seen[] = [];
    const scanner = new FrameScanner({ maxMessageBytes: 64 << 20, wants: backendWants,
      onMessage: (type, body, total) => seen.push({ type: String.fromCharCode(type), body: body && Buffer.from(body).toString('hex'), total }) });
    let maxBuffered = 0;
    for (let at = 0; at < stream.length; at += 16384) {
      scanner.push(stream.subarray(at, at + 16384));
      maxBuffered = Math.max(maxBuffered, scanner.bufferedBytes, scanner.bufferCapacity);
    }
    expect(maxBuffered).toBeLessThanOrEqual(5);
    expect(seen.map((m) => [m.type, m.total])).toEqual([['C', 14], ['D', big.length], ['Z', 6]]);
    expect(seen[1]?.body).toBeUndefined();
  });

  it('hands out a wanted message inside one chunk as a view of that chunk', () => {
    const chunk = bytes(frame('Q', cstr('select 1')), frame('S'));
    const views: Uint8Array[] = [];
    new FrameScanner({ maxMessageBytes: 1024, wants: frontendWants, onMessage: (_t, body) => { if (body) views.push(body); } }).push(chunk);
    expect(views[0]?.buffer).toBe(chunk.buffer);
    expect(views[0]?.byteOffset).toBe(chunk.byteOffset + 5);
  });

  it('gathers a split wanted message in a buffer that grows with the bytes, and releases a large one after', () => {
    const query = frame('Q', cstr('x'.repeat(100_000)));
    const scanner = new FrameScanner({ maxMessageBytes: 64 << 20, wants: frontendWants, onMessage: () => undefined });
    scanner.push(query.subarray(0, 1005));
    expect(scanner.bufferedBytes).toBe(1000);
    expect(scanner.bufferCapacity).toBeLessThan(4096);
    scanner.push(query.subarray(1005));
    expect(scanner.bufferCapacity).toBe(0);
    // A small gathered message keeps its buffer for the next one.
    const small = frame('Q', cstr('select 42'));
    scanner.push(small.subarray(0, 8));
    scanner.push(small.subarray(8));
    expect(scanner.bufferCapacity).toBeGreaterThan(0);
    expect(scanner.bufferCapacity).toBeLessThanOrEqual(8192);
  });

  it('a lying 10 MB length costs nothing until the bytes arrive', () => {
    const scanner = new FrameScanner({ maxMessageBytes: 64 << 20, wants: frontendWants, onMessage: () => undefined });
    scanner.push(bytes('Q', int32(10_000_000), 'abc'));
    expect(scanner.bufferCapacity).toBeLessThanOrEqual(256);
  });
});

describe('FrameScanner refusals', () => {
  const scanner = (options: Partial<ConstructorParameters<typeof FrameScanner>[0]> = {}): FrameScanner =>
    new FrameScanner({ maxMessageBytes: 1 << 20, wants: frontendWants, onMessage: () => undefined, ...options });

  it('refuses a 1 GiB declared length after five bytes, and stays failed', () => {
    const s = scanner();
    s.push(bytes('Q', [0x40, 0, 0]));
    expect(() => s.push(Uint8Array.of(0))).toThrow(/1073741824, over the limit of 1048576/);
    expect(() => s.push(frame('S'))).toThrow(WireFormatError);
  });

  it('refuses lengths below 4, including negative ones', () => {
    expect(() => scanner().push(bytes('S', int32(3)))).toThrow(/below the minimum/);
    expect(() => scanner().push(bytes('d', int32(-5)))).toThrow(/-5/);
    expect(() => scanner().push(bytes('d', [0x80, 0, 0, 0]))).toThrow(WireFormatError);
  });

  it('applies per-type caps to wanted and unwanted types alike', () => {
    const s = scanner({ typeLimits: frontendTypeLimits });
    expect(() => s.push(bytes('S', int32(10_001)))).toThrow(/limit of 10000/);
    const copy = scanner({ typeLimits: { [0x64]: 100 } });
    expect(() => copy.push(bytes('d', int32(101)))).toThrow(/limit of 100/);
  });

  it('refuses an invalid type byte as soon as it arrives, even when the header is split, and stays failed', () => {
    const valid = new Uint8Array(256);
    valid[0x51] = 1; // 'Q'
    valid[0x53] = 1; // 'S'
    const seen: number[] = [];
    const s = scanner({ validTypes: valid, onMessage: (type) => { seen.push(type); } });
    s.push(frame('S'));
    expect(() => s.push(Uint8Array.of(0x7a))).toThrow(/invalid message type 'z' \(0x7a\)/);
    expect(() => s.push(frame('S'))).toThrow(WireFormatError);
    expect(seen).toEqual([0x53]);
    // In one chunk after a valid message: the valid one is delivered, then the refusal.
    const t = scanner({ validTypes: valid, onMessage: (type) => { seen.push(type); } });
    expect(() => t.push(Uint8Array.from([...frame('Q', [0x41, 0]), 0x70, 0, 0, 0, 4]))).toThrow(/invalid message type 'p'/);
    expect(seen).toEqual([0x53, 0x51]);
    expect(() => scanner({ validTypes: new Uint8Array(10) })).toThrow(RangeError);
  });

  it('is failed after a throwing callback or a re-entrant push', () => {
    const s = scanner({ onMessage: () => { throw new Error('tap bug'); } });
    expect(() => s.push(frame('S'))).toThrow('tap bug');
    expect(() => s.push(frame('S'))).toThrow(WireFormatError);
    let inner: unknown;
    const reentrant: FrameScanner = scanner({ onMessage: () => { try { reentrant.push(frame('S')); } catch (error) { inner = error; } } });
    reentrant.push(frame('S'));
    expect(inner).toBeInstanceOf(WireFormatError);
  });

  it('reads a wants table live, and a predicate once', () => {
    const table = typeTable([]);
    const seen: (string | undefined)[] = [];
    const s = new FrameScanner({ maxMessageBytes: 100, wants: table, onMessage: (_t, body) => seen.push(body && Buffer.from(body).toString()) });
    s.push(frame('Q', cstr('a')));
    table[0x51] = 1;
    s.push(frame('Q', cstr('b')));
    expect(seen).toEqual([undefined, 'b\0']);
    let asked = 0;
    new FrameScanner({ maxMessageBytes: 100, wants: () => { asked++; return true; }, onMessage: () => undefined }).push(frame('S'));
    expect(asked).toBe(256);
  });

  it('refuses a bad configuration at construction', () => {
    expect(() => scanner({ maxMessageBytes: 3 })).toThrow(RangeError);
    expect(() => scanner({ wants: new Uint8Array(10) })).toThrow(RangeError);
  });
});
