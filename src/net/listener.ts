// TCP listeners for the wire protocols. Each accepted socket goes to its engine's handleConnection; the listener
// only tracks sockets so shutdown can end them, and never lets one connection's failure reach the process.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { splitHostPort } from './address.js';

export interface Listener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export type ConnectionHandler = (socket: Socket) => Promise<void>;

export async function listen(address: string, name: string, handle: ConnectionHandler, logger: Logger): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Per-connection errors are the engine's to handle; this only keeps a stray one from crashing the process.
    socket.on('error', () => {});
    handle(socket).catch((error: unknown) => {
      logger.error({ err: error, listener: name }, 'connection handler failed');
      socket.destroy();
    });
  });
  const { host, port } = splitHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Engines end their sessions on the shutdown signal first; whatever is left is cut here.
      setTimeout(() => { for (const socket of sockets) socket.destroy(); }, 2_000).unref();
    }),
  };
}
