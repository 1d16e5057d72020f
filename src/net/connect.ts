// Opening a TCP connection to an upstream database, bounded by a timeout and the session's signal. Both engines'
// upstream legs use it and word the failure in their own protocol's terms.
import { connect, type Socket } from 'node:net';

export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/** Resolves with the connected socket; rejects with "cannot reach host:port: <why>". */
export function connectTcp(host: string, port: number, signal: AbortSignal, timeoutMs = UPSTREAM_CONNECT_TIMEOUT_MS): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
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
