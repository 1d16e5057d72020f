// The handshake-phase packet reader (src/engines/mysql/packet-reader.ts) over a real loopback socket: it cuts only the
// packets asked for, so bytes of another protocol that follow in the same segment — a TLS ClientHello right behind
// the SSLRequest, as mysql2 sends it — are handed back to the socket at detach(), not parsed as MySQL framing.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketTooLargeError } from '../../protocols/mysql/packet-framer.js';
import { PacketReader } from '../../src/engines/mysql/packet-reader.js';
import { cat, frame, u24 } from '../support/mysql-frames.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => { if (server) server.close(() => resolve()); else resolve(); }));

/** A connected pair: the server side (paused, as jitgate's listener hands it over) and the client side. */
async function pair(): Promise<{ accepted: Socket; client: Socket }> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer({ pauseOnConnect: true }, resolve);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server?.address();
  if (address === null || address === undefined || typeof address === 'string') throw new Error('no port');
  const client = connect({ host: '127.0.0.1', port: address.port });
  return { accepted: await accepted, client };
}

describe('PacketReader', () => {
  it('leaves what follows the packet read on the socket: detach() puts it back for the next reader', async () => {
    const { accepted, client } = await pair();
    const sslRequest = frame(1, Buffer.alloc(32, 0x11));
    const clientHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]); // a length no handshake allows
    client.write(cat(sslRequest, clientHello));
    const reader = new PacketReader(accepted, new AbortController().signal, 'client');
    const packet = await reader.read();
    expect(packet.sequenceId).toBe(1);
    expect(packet.payload).toEqual(Buffer.alloc(32, 0x11));
    expect(reader.nextSequenceId).toBe(2);
    expect(reader.hasBufferedPackets).toBe(true);
    reader.detach();
    const next = await new Promise<Buffer>((resolve) => {
      accepted.once('data', resolve);
      accepted.resume();
    });
    expect(next).toEqual(clientHello);
    client.destroy();
    accepted.destroy();
  });

  it('refuses a declared length beyond the handshake cap before waiting for the bytes', async () => {
    const { accepted, client } = await pair();
    client.write(cat(u24(0x10_0000), [1], Buffer.alloc(100)));
    const reader = new PacketReader(accepted, new AbortController().signal, 'client');
    await expect(reader.read()).rejects.toBeInstanceOf(PacketTooLargeError);
    client.destroy();
    accepted.destroy();
  });

  it('assembles a packet split over several segments', async () => {
    const { accepted, client } = await pair();
    const reader = new PacketReader(accepted, new AbortController().signal, 'client');
    const whole = frame(0, Buffer.from('a handshake response'));
    const reading = reader.read();
    const cuts = [0, 1, 3, 4, 9, whole.length];
    for (let i = 1; i < cuts.length; i++) {
      client.write(whole.subarray(cuts[i - 1], cuts[i]));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await reading).payload.toString()).toBe('a handshake response');
    expect(reader.hasBufferedPackets).toBe(false);
    client.destroy();
    accepted.destroy();
  });
});
