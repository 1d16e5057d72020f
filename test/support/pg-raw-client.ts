// A hand-driven Postgres client on a bare socket, for tests that must send what no driver sends (garbage, lying
// lengths, half messages) or look at the exact bytes the proxy answers. SCRAM-SHA-256 is done here from RFC 5802/7677
// with node:crypto, sharing nothing with protocols/ (STYLE rule 14).
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { bytes, cstr, frame, int32, startupFrame } from './pg-frames.js';

export interface RawMessage {
  readonly type: string;
  /** Body without type and length. */
  readonly body: Buffer;
  /** The whole message as it came over the wire. */
  readonly raw: Buffer;
}

/** A StartupMessage for `version` (196608 = 3.0) with the given parameters. */
export const startupMessage = (parameters: Readonly<Record<string, string>>, version = 196_608): Buffer =>
  startupFrame(int32(version), ...Object.entries(parameters).flatMap(([name, value]) => [cstr(name), cstr(value)]), [0]);

/** The fields of an ErrorResponse / NoticeResponse body by their letter. */
export function errorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const code = String.fromCharCode(body[pos] as number);
    const end = body.indexOf(0, pos + 1);
    fields[code] = body.subarray(pos + 1, end).toString('utf8');
    pos = end + 1;
  }
  return fields;
}

export class RawPgClient {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;
  /** How jitgate names this connection in its audit events (`client`), taken while the socket is open. */
  readonly address: string;

  private constructor(readonly socket: Socket) {
    this.address = `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.ended = true;
      this.notify();
      resolve();
    }));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawPgClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPgClient(socket));
      });
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitFor(count: number, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < count) {
      if (this.ended) throw new Error(`${what}: connection closed after ${this.buffer.length} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: nothing within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  write(data: Uint8Array): void {
    this.socket.write(data);
  }

  /** One unframed byte (the answer to SSLRequest / GSSENCRequest). */
  async readByte(timeoutMs = 5_000): Promise<string> {
    await this.waitFor(1, timeoutMs, 'one byte');
    const byte = this.buffer.subarray(0, 1).toString('latin1');
    this.buffer = this.buffer.subarray(1);
    return byte;
  }

  async readMessage(timeoutMs = 5_000): Promise<RawMessage> {
    await this.waitFor(5, timeoutMs, 'a message header');
    const length = this.buffer.readInt32BE(1);
    await this.waitFor(1 + length, timeoutMs, 'a message body');
    const raw = Buffer.from(this.buffer.subarray(0, 1 + length));
    this.buffer = this.buffer.subarray(1 + length);
    return { type: raw.subarray(0, 1).toString('latin1'), body: raw.subarray(5), raw };
  }

  /** Messages until `type` arrives (included). */
  async readUntil(type: string, timeoutMs = 5_000): Promise<RawMessage[]> {
    const messages: RawMessage[] = [];
    for (;;) {
      const message = await this.readMessage(timeoutMs);
      messages.push(message);
      if (message.type === type) return messages;
    }
  }

  /** Resolves with what arrived before the peer closed; rejects if it stays open for `timeoutMs`. */
  async rest(timeoutMs = 5_000): Promise<Buffer> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs); })]);
    clearTimeout(timer);
    return this.buffer;
  }

  /** Waits up to `timeoutMs` for the peer to close: what arrived unread, and whether it closed (false: still open). */
  async settle(timeoutMs: number): Promise<{ readonly received: Buffer; readonly closed: boolean }> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); })]);
    clearTimeout(timer);
    return { received: this.buffer, closed };
  }

  close(): void {
    this.socket.destroy();
  }
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

export interface ScramTranscript {
  /** A NegotiateProtocolVersion the server sent before authentication, if any. */
  readonly negotiate?: RawMessage;
  /** server-first-message, as text. */
  readonly serverFirst: string;
  /** Everything the server sent after the client-final-message, until it closed or said ReadyForQuery. */
  readonly after: RawMessage[];
  /** True when the server's signature verified (AuthenticationSASLFinal). */
  readonly serverProven: boolean;
}

/**
 * Startup + SCRAM-SHA-256 as `user` with `password`; reads the server's answers after the client-final-message up to
 * ReadyForQuery or an ErrorResponse.
 */
export async function scramLogin(client: RawPgClient, parameters: Readonly<Record<string, string>>, password: string,
  startup: Buffer = startupMessage(parameters)): Promise<ScramTranscript> {
  client.write(startup);
  let sasl = await client.readMessage();
  const negotiate = sasl.type === 'v' ? sasl : undefined;
  if (negotiate) sasl = await client.readMessage();
  if (sasl.type !== 'R' || sasl.body.readInt32BE(0) !== 10) throw new Error(`expected AuthenticationSASL, got ${sasl.type}`);
  const nonce = randomBytes(18).toString('base64');
  const clientFirstBare = `n=,r=${nonce}`;
  const first = Buffer.from(`n,,${clientFirstBare}`);
  client.write(frame('p', cstr('SCRAM-SHA-256'), int32(first.length), first));
  const cont = await client.readMessage();
  if (cont.type !== 'R' || cont.body.readInt32BE(0) !== 11) throw new Error(`expected AuthenticationSASLContinue, got ${cont.type}`);
  const serverFirst = cont.body.subarray(4).toString('utf8');
  const attrs = Object.fromEntries(serverFirst.split(',').map((part) => [part.slice(0, 1), part.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s ?? '', 'base64'), Number(attrs.i), 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const withoutProof = `c=biws,r=${attrs.r ?? ''}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = hmac(sha256(clientKey), authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] as number)));
  client.write(frame('p', bytes(`${withoutProof},p=${proof.toString('base64')}`)));
  const after: RawMessage[] = [];
  let serverProven = false;
  for (;;) {
    const message = await client.readMessage();
    after.push(message);
    if (message.type === 'R' && message.body.readInt32BE(0) === 12) {
      const expected = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
      const given = Buffer.from(message.body.subarray(4).toString('utf8').replace(/^v=/, ''));
      serverProven = given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
    }
    if (message.type === 'Z' || message.type === 'E') return { serverFirst, after, serverProven, ...(negotiate ? { negotiate } : {}) };
  }
}
