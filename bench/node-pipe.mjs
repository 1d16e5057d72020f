// A diagnostic target for both sections of `npm run bench`: a bare Node byte pipe, the floor for a relay written in Node
// on this machine (one event loop, libuv's socket path, no framing, no tap, no audit). Never a product configuration.
import { connect, createServer } from 'node:net';

/** Listens on a free port in this process and pipes each connection to 127.0.0.1:`backendPort` both ways. */
export async function startNodePipe(backendPort) {
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: backendPort, noDelay: true });
    client.pipe(upstream);
    upstream.pipe(client);
    for (const [socket, other] of [[client, upstream], [upstream, client]]) {
      socket.on('error', () => other.destroy());
      socket.on('close', () => other.destroy());
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, pid: process.pid, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
