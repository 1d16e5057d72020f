// A raw MySQL client over a plain TCP socket, for the bad-input suite: it logs in by hand (HandshakeResponse41 with
// mysql_native_password, written from the protocol docs) and then sends whatever bytes a test wants — wrong sequence
// ids, oversized or truncated frames, commands a normal client never sends — and reads back packets and the close.
// Test-only; imports nothing from protocols/ (STYLE rule 14).
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { cat, frame, lenStr, nul, u32 } from './mysql-frames.js';

export interface RawPacket {
  readonly sequenceId: number;
  readonly payload: Buffer;
}

export interface ErrPacketFields {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

/** Capability flags (Protocol::CapabilityFlags) the raw client sends. */
const CLIENT = {
  LONG_PASSWORD: 0x1, CONNECT_WITH_DB: 0x8, PROTOCOL_41: 0x200, TRANSACTIONS: 0x2000, SECURE_CONNECTION: 0x8000,
  PLUGIN_AUTH: 0x80000, DEPRECATE_EOF: 0x1000000,
} as const;
const AUTH_SWITCH_REQUEST = 0xfe;
export const RAW_CLIENT_CAPABILITIES = CLIENT.LONG_PASSWORD | CLIENT.CONNECT_WITH_DB | CLIENT.PROTOCOL_41 | CLIENT.TRANSACTIONS
  | CLIENT.SECURE_CONNECTION | CLIENT.PLUGIN_AUTH | CLIENT.DEPRECATE_EOF;

const sha1 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). */
export function nativeScramble(password: string, scramble: Buffer): Buffer {
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const mask = sha1(scramble, sha1(stage1));
  return Buffer.from(stage1.map((byte, i) => byte ^ (mask[i] ?? 0)));
}

/** The 20 scramble bytes of a HandshakeV10: part 1 (8 bytes) and part 2 (the next 12, before its NUL). */
export function greetingScramble(payload: Buffer): Buffer {
  const versionEnd = payload.indexOf(0, 1);
  const part1 = payload.subarray(versionEnd + 5, versionEnd + 13);
  const part2Start = versionEnd + 13 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
  return Buffer.concat([part1, payload.subarray(part2Start, part2Start + 12)]);
}

export function decodeErr(payload: Buffer): ErrPacketFields {
  if (payload[0] !== 0xff) throw new Error(`not an ERR packet: header 0x${(payload[0] ?? 0).toString(16)}`);
  return { errno: payload.readUInt16LE(1), sqlState: payload.toString('latin1', 4, 9), message: payload.toString('utf8', 9) };
}

export class RawMysqlConnection {
  private buffered = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number): Promise<RawMysqlConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => resolve(new RawMysqlConnection(socket)));
      socket.once('error', reject);
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitFor(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /** The next whole packet (single frame); fails if the peer closes first. */
  async read(timeoutMs = 5_000): Promise<RawPacket> {
    const complete = (): boolean => this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readUIntLE(0, 3);
    await this.waitFor(() => complete() || this.closed, timeoutMs, 'a packet');
    if (!complete()) throw new Error('the server closed the connection instead of answering');
    const length = this.buffered.readUIntLE(0, 3);
    const packet = { sequenceId: this.buffered[3] ?? 0, payload: Buffer.from(this.buffered.subarray(4, 4 + length)) };
    this.buffered = this.buffered.subarray(4 + length);
    return packet;
  }

  /** Resolves once the server has closed the connection (after any packets it sent), or rejects after the timeout. */
  async closedByServer(timeoutMs = 5_000): Promise<void> {
    await this.waitFor(() => this.closed, timeoutMs, 'the server to close the connection');
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** A command packet (sequence id 0 unless told otherwise). */
  command(payload: Uint8Array, sequenceId = 0): void {
    this.write(frame(sequenceId, payload));
  }

  /**
   * Greeting → HandshakeResponse41 (mysql_native_password) → the server's answer, after answering an AuthSwitchRequest
   * to mysql_native_password (a server whose greeting names another plugin sends one). Returns that answer.
   */
  async login(user: string, password: string, database: string): Promise<RawPacket> {
    const greeting = await this.read();
    const response = cat(
      u32(RAW_CLIENT_CAPABILITIES), u32(16 * 1024 * 1024), [45], Buffer.alloc(23), nul(user),
      lenStr(nativeScramble(password, greetingScramble(greeting.payload))), nul(database), nul('mysql_native_password'),
    );
    this.write(frame(greeting.sequenceId + 1, response));
    const answer = await this.read();
    if (answer.payload[0] !== AUTH_SWITCH_REQUEST) return answer;
    // AuthSwitchRequest: 0xfe, NUL-terminated plugin name, the new scramble and its NUL.
    const nameEnd = answer.payload.indexOf(0, 1);
    const plugin = answer.payload.toString('latin1', 1, nameEnd);
    if (plugin !== 'mysql_native_password') throw new Error(`the server switched the raw client to ${plugin}`);
    const scramble = answer.payload.subarray(nameEnd + 1, nameEnd + 1 + 20);
    this.write(frame(answer.sequenceId + 1, nativeScramble(password, scramble)));
    return this.read();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** COM_QUERY payload. */
export const comQuery = (sql: string): Buffer => cat([0x03], sql);
