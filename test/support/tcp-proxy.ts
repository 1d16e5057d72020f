// A TCP forwarder in front of a real server, for tests that need the server to "go down" and come back on the same
// address: stop() refuses new connections and cuts the open ones, resume() listens on the same port again.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted since start: lets a test see that traffic really went through the proxy. */
  accepted = 0;

  private constructor(private readonly target: { host: string; port: number }, public port: number) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy({ host: targetHost, port: targetPort }, 0);
    await proxy.resume();
    return proxy;
  }

  /** The target URL with host:port replaced by the proxy's. */
  rewrite(url: string): string {
    const out = new URL(url);
    out.hostname = '127.0.0.1';
    out.port = String(this.port);
    return out.toString();
  }

  resume(): Promise<void> {
    if (this.server !== undefined) return Promise.resolve();
    const server = createServer((client) => this.forward(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (address !== null && typeof address === 'object') this.port = address.port;
        resolve();
      });
    });
  }

  /** Refuses new connections (ECONNREFUSED) and cuts every open one, as a server that went away. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private forward(client: Socket): void {
    this.accepted += 1;
    const upstream = connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
