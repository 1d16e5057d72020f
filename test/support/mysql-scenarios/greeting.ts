// Reads the first packet a MySQL/MariaDB server (or jitgate) sends, the HandshakeV10, straight off a TCP socket, and
// closes without answering. The client suite uses it to learn what a client is offered before it logs in: CLIENT_SSL
// and the auth plugin named in the greeting decide which client paths a scenario can exercise. Test-only decoding,
// written from the protocol docs (Connection Phase, Protocol::HandshakeV10); it imports nothing from protocols/.
import { connect } from 'node:net';

/** Capability flags the suite looks at (Protocol::CapabilityFlags). */
export const CAPABILITY = {
  CLIENT_PROTOCOL_41: 0x0000_0200,
  CLIENT_SSL: 0x0000_0800,
  CLIENT_PLUGIN_AUTH: 0x0008_0000,
} as const;

export interface ServerGreeting {
  readonly protocolVersion: number;
  readonly serverVersion: string;
  readonly connectionId: number;
  /** Lower and upper capability words joined. */
  readonly capabilities: number;
  /** The auth plugin of the greeting; undefined when the server lacks CLIENT_PLUGIN_AUTH. */
  readonly authPluginName: string | undefined;
}

const ERR_PACKET = 0xff;

function cString(payload: Buffer, start: number, what: string): { value: string; next: number } {
  const end = payload.indexOf(0, start);
  if (end < 0) throw new Error(`greeting: ${what} is not NUL-terminated`);
  return { value: payload.toString('latin1', start, end), next: end + 1 };
}

/** Decodes a HandshakeV10 payload (the bytes after the 4-byte packet header). */
export function decodeGreeting(payload: Buffer): ServerGreeting {
  const protocolVersion = payload[0];
  if (protocolVersion === ERR_PACKET) {
    // An ERR instead of a greeting (too many connections, host blocked): 0xff, errno (2), message.
    throw new Error(`server refused before the greeting: ${payload.readUInt16LE(1)} ${payload.toString('utf8', 3)}`);
  }
  if (protocolVersion !== 10) throw new Error(`greeting: protocol version ${String(protocolVersion)}, expected 10`);
  const version = cString(payload, 1, 'server version');
  let at = version.next;
  const connectionId = payload.readUInt32LE(at);
  at += 4 + 8 + 1; // connection id, auth-plugin-data-part-1, filler
  const lower = payload.readUInt16LE(at);
  at += 2 + 1 + 2; // capability flags (lower), character set, status flags
  const upper = payload.readUInt16LE(at);
  at += 2;
  const capabilities = (lower | (upper << 16)) >>> 0;
  const authDataLength = payload[at] ?? 0;
  at += 1 + 10; // auth-plugin-data length, reserved (MariaDB keeps its extended capabilities in the last 4)
  if ((capabilities & CAPABILITY.CLIENT_PLUGIN_AUTH) === 0) {
    return { protocolVersion, serverVersion: version.value, connectionId, capabilities, authPluginName: undefined };
  }
  at += Math.max(13, authDataLength - 8); // auth-plugin-data-part-2
  // The plugin name is NUL-terminated, but some servers end the packet without the NUL: take the rest then.
  const end = payload.indexOf(0, at);
  const authPluginName = payload.toString('latin1', at, end < 0 ? payload.length : end);
  return { protocolVersion, serverVersion: version.value, connectionId, capabilities, authPluginName };
}

/** Connects, reads one packet, closes. Rejects on timeout, a closed socket or an ERR in place of the greeting. */
export function readServerGreeting(host: string, port: number, timeoutMs = 5_000): Promise<ServerGreeting> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (outcome: () => void): void => {
      socket.removeAllListeners('data');
      socket.destroy();
      outcome();
    };
    socket.setTimeout(timeoutMs, () => finish(() => reject(new Error(`no greeting from ${host}:${port} within ${timeoutMs} ms`))));
    socket.on('error', (error) => finish(() => reject(error)));
    socket.on('close', () => reject(new Error(`${host}:${port} closed before its greeting`)));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const packet = Buffer.concat(chunks, received);
      const length = packet.readUIntLE(0, 3);
      if (received < 4 + length) return;
      finish(() => {
        try {
          resolve(decodeGreeting(packet.subarray(4, 4 + length)));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  });
}
