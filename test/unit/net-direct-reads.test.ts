// connectTcp's reused read buffer (src/net/connect.ts): before a relay takes the reads they arrive as ordinary,
// independent 'data' chunks; a sink gets views of one buffer, which is replaced only when the sink says its bytes are
// still referenced; pause and resume still hold reads back.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectTcp, directReadsOf } from '../../src/net/connect.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server that writes `payload` to each connection in `pieces` writes, spaced so they arrive as separate reads. */
async function serve(payload: Buffer, pieces: number): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => {}); // a test may close its end first
    const size = Math.ceil(payload.length / pieces);
    let offset = 0;
    const next = (): void => {
      if (offset >= payload.length) {
        socket.end();
        return;
      }
      socket.write(payload.subarray(offset, offset + size));
      offset += size;
      setTimeout(next, 5);
    };
    next();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const payloadOf = (bytes: number): Buffer => Buffer.from(Array.from({ length: bytes }, (_, index) => (index * 7 + (index >> 8)) & 0xff));
const digest = (chunks: readonly Buffer[]): string => createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
const ended = (socket: Socket): Promise<void> => new Promise((resolve) => socket.once('end', resolve));

describe('connectTcp with a reused read buffer', () => {
  it('delivers reads as independent data chunks while no sink is set', async () => {
    const payload = payloadOf(200_000);
    const socket = await connectTcp('127.0.0.1', await serve(payload, 8), AbortSignal.timeout(5_000), { reuseReadBuffer: true });
    expect(directReadsOf(socket)).toBeDefined();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await ended(socket);
    expect(chunks.length).toBeGreaterThan(1);
    // Kept chunks are copies: a later read into the shared buffer did not overwrite an earlier one.
    expect(digest(chunks)).toBe(digest([payload]));
    expect(new Set(chunks.map((chunk) => chunk.buffer)).size).toBe(chunks.length);
    socket.destroy();
  });

  it('gives a sink views of one buffer, and a fresh buffer after a read the sink kept', async () => {
    const payload = payloadOf(120_000);
    const socket = await connectTcp('127.0.0.1', await serve(payload, 6), AbortSignal.timeout(5_000), { reuseReadBuffer: true });
    const reads = directReadsOf(socket);
    if (reads === undefined) throw new Error('no direct reads');
    const copies: Buffer[] = [];
    const backing: ArrayBufferLike[] = [];
    let keep = false;
    reads.sink = (view) => {
      copies.push(Buffer.from(view));
      backing.push(view.buffer);
      const kept = keep;
      keep = !keep; // keep every other read
      return kept;
    };
    socket.resume();
    await ended(socket);
    expect(digest(copies)).toBe(digest([payload]));
    expect(backing.length).toBeGreaterThanOrEqual(4);
    for (let index = 1; index < backing.length; index++) {
      // The read after a kept one lands in a new buffer; after a released one, in the same buffer.
      if (index % 2 === 0) expect(backing[index]).not.toBe(backing[index - 1]);
      else expect(backing[index]).toBe(backing[index - 1]);
    }
    socket.destroy();
  });

  it('holds reads back while paused', async () => {
    const payload = payloadOf(50_000);
    const socket = await connectTcp('127.0.0.1', await serve(payload, 5), AbortSignal.timeout(5_000), { reuseReadBuffer: true });
    const reads = directReadsOf(socket);
    if (reads === undefined) throw new Error('no direct reads');
    let received = 0;
    reads.sink = (view) => {
      received += view.length;
      return false;
    };
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toBe(0);
    socket.resume();
    await ended(socket);
    expect(received).toBe(payload.length);
    socket.destroy();
  });

  it('is not used unless asked for', async () => {
    const socket = await connectTcp('127.0.0.1', await serve(payloadOf(10), 1), AbortSignal.timeout(5_000));
    expect(directReadsOf(socket)).toBeUndefined();
    socket.destroy();
  });
});
