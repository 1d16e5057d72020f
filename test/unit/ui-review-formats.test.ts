// Wire formats of review: SSE framing (written and read, split at every offset), CSV cells, session cursors and
// LIKE patterns. Golden strings are written from the specs, not produced by the code under test.
import { describe, expect, it } from 'vitest';
import { csvCell } from '../../src/api/routes/session-export.js';
import { decodeSessionCursor, encodeSessionCursor } from '../../src/api/routes/session-review.js';
import { formatSse } from '../../src/api/routes/session-stream.js';
import { readSse, type SseEvent } from '../../src/cli/commands/sessions-stream.js';
import { containsPattern } from '../../src/store/review-queries.js';

async function* chunks(parts: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function collect(parts: readonly string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of readSse(chunks(parts))) out.push(event);
  return out;
}

describe('server-sent events', () => {
  it('frames a message with one data field per line', () => {
    expect(formatSse({ event: 'statement', id: '7', data: '{"a":1}' })).toBe('id: 7\nevent: statement\ndata: {"a":1}\n\n');
    expect(formatSse({ event: 'x\ny', data: 'one\ntwo\r\nthree' })).toBe('event: xy\ndata: one\ndata: two\ndata: three\n\n');
  });

  it('reads a golden stream the same whole, split at every offset, and byte by byte', async () => {
    const stream = 'retry: 2000\n\n: keep-alive\n\nid: 41\nevent: statement\ndata: {"sql":"select \'é\'"}\n\r\nevent: end\r\ndata:one\ndata: two\r\n\r\ndata: last';
    const expected = [
      { event: 'statement', data: `{"sql":"select 'é'"}`, id: '41' },
      { event: 'end', data: 'one\ntwo', id: '41' },
      { event: 'message', data: 'last', id: '41' },
    ];
    const bytes = new TextEncoder().encode(stream);
    // The last event has no blank line after it: the spec drops it at end of stream.
    const complete = expected.slice(0, 2);
    expect(await collect([stream])).toEqual(complete);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new TextDecoder();
      const parts = [decoder.decode(bytes.slice(0, cut), { stream: true }), decoder.decode(bytes.slice(cut))];
      expect(await collect(parts), `split at ${cut}`).toEqual(complete);
    }
    const single: AsyncGenerator<Uint8Array> = (async function* () {
      for (const byte of bytes) yield Uint8Array.of(byte);
    })();
    const events: SseEvent[] = [];
    for await (const event of readSse(single)) events.push(event);
    expect(events).toEqual(complete);
  });
});

describe('CSV cells (RFC 4180)', () => {
  it('quotes only when needed and doubles quotes; keeps text as recorded', () => {
    expect(csvCell('select 1')).toBe('select 1');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=1+1')).toBe('=1+1');
    expect(csvCell(null)).toBe('');
    expect(csvCell(0)).toBe('0');
  });
});

describe('session cursors', () => {
  it('round-trips and refuses anything it did not make', () => {
    const cursor = { startedAt: new Date('2025-01-31T12:00:00.123Z'), id: 's_abcdefghijklmnopqrst' };
    const text = encodeSessionCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSessionCursor(text)).toEqual(cursor);
    for (const bad of ['', 'xyz', Buffer.from('12.s_short').toString('base64url'), Buffer.from("1.s_abcdefghijklmnopqrst' or 1=1").toString('base64url')]) {
      expect(decodeSessionCursor(bad)).toBeUndefined();
    }
  });
});

describe('LIKE patterns', () => {
  it('makes %, _ and the escape character literal', () => {
    expect(containsPattern('100%_a!b')).toBe('%100!%!_a!!b%');
    expect(containsPattern('plain')).toBe('%plain%');
  });
});
