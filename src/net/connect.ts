// Opening a TCP connection to an upstream database, bounded by a timeout and the session's signal. Both engines'
// upstream legs use it and word the failure in their own protocol's terms.
//
// A plain-TCP upstream can read into one reused buffer (socket `onread`) instead of a fresh allocation per read: a
// large result or COPY then moves through memory that stays hot, instead of faulting in and collecting ~64 KiB per
// read, which on this VM doubled the CPU per MB relayed. Until a relay takes the reads (directReadsOf), each read is
// copied and pushed as an ordinary 'data' chunk, so the login, the reset and the pool read the socket as usual.
import { connect, type Socket } from 'node:net';

export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Receives each read as a view of the reused buffer, valid during the call only. Returns true when the bytes are
 * still referenced after it returns (a socket write that did not complete at once): the next read then gets a fresh
 * buffer.
 */
export type DirectReadSink = (view: Buffer) => boolean;

export interface DirectReads {
  /** Set by the relay for its lifetime; undefined: reads arrive as copies through the socket's 'data' events. */
  sink: DirectReadSink | undefined;
}

const directReads = new WeakMap<Socket, DirectReads>();

/** The reused-buffer reads of a socket opened by connectTcp with `reuseReadBuffer`, or undefined. */
export function directReadsOf(socket: Socket): DirectReads | undefined {
  return directReads.get(socket);
}

export interface ConnectOptions {
  readonly timeoutMs?: number;
  /** Read into one reused buffer (plain TCP only: a socket that will carry TLS must not). */
  readonly reuseReadBuffer?: boolean;
}

function reusedBufferReads(reads: DirectReads, socket: () => Socket): { buffer: () => Buffer; callback: (bytes: number, buffer: Uint8Array) => boolean } {
  let buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  let retained = false;
  return {
    buffer: () => {
      if (retained) buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
      retained = false;
      return buffer;
    },
    callback: (bytes, into) => {
      const view = Buffer.from(into.buffer, into.byteOffset, bytes);
      const { sink } = reads;
      if (sink !== undefined) {
        retained = sink(view);
        return true;
      }
      // Returning false stops reading until the stream wants more, as a full 'data' buffer would.
      return socket().push(Buffer.from(view));
    },
  };
}

/** Resolves with the connected socket; rejects with "cannot reach host:port: <why>". */
export function connectTcp(host: string, port: number, signal: AbortSignal, options: ConnectOptions = {}): Promise<Socket> {
  const timeoutMs = options.timeoutMs ?? UPSTREAM_CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const reads: DirectReads = { sink: undefined };
    const onread: ReturnType<typeof reusedBufferReads> | undefined = options.reuseReadBuffer === true ? reusedBufferReads(reads, () => socket) : undefined;
    const socket: Socket = connect({ host, port, noDelay: true, ...(onread ? { onread } : {}) });
    if (onread) directReads.set(socket, reads);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(new Error(`cannot reach ${host}:${port}: ${error.message}`));
    };
    const timer = setTimeout(() => fail(new Error('connect timeout')), timeoutMs);
    const onAbort = (): void => fail(new Error('session ended'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
