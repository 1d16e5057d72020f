// A TCP forwarder in its own process, for tests that need a peer which accepts connections and never answers: the
// test SIGSTOPs this process (the kernel still completes TCP handshakes into its backlog; nothing replies), SIGCONTs
// it to let traffic flow again, or kills it to leave a closed port (ECONNREFUSED).
//   node test/support/tcp-forwarder-child.mjs <target port>   → prints `PORT <listening port>` once listening
import { connect, createServer } from 'node:net';

const targetPort = Number(process.argv[2]);
const server = createServer((client) => {
  const upstream = connect(targetPort, '127.0.0.1');
  for (const socket of [client, upstream]) {
    socket.on('error', () => {});
    socket.on('close', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`PORT ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
