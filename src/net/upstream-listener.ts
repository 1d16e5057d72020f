// How a relay listens to its upstream socket, and lets go of it when the server connection goes back to the pool
// (src/net/server-pool.ts) instead of being closed. Shared by both engines' relays.
import type { Socket } from 'node:net';
import { directReadsOf } from './connect.js';

export class UpstreamListener {
  private readonly onData: (chunk: Buffer) => void;
  /** Reads in the upstream's reused buffer (net/connect.ts): still referenced afterwards only if `client`'s write was queued. */
  private readonly onDirectRead: (view: Buffer) => boolean;
  private readonly ignoreError = (): void => {};

  constructor(private readonly upstream: Socket, client: Socket, fromUpstream: (chunk: Buffer) => void, private readonly onClose: () => void) {
    this.onData = fromUpstream;
    this.onDirectRead = (view) => {
      fromUpstream(view);
      return client.writableLength > 0;
    };
  }

  attach(): void {
    // Reads go straight to the relay when the socket has a reused buffer; 'data' still delivers, as copies, anything
    // the stream had buffered before the relay took over.
    const direct = directReadsOf(this.upstream);
    if (direct) direct.sink = this.onDirectRead;
    this.upstream.on('data', this.onData).on('close', this.onClose).on('error', this.ignoreError);
  }

  /** Paused, with none of the relay's listeners left on it: the socket is the pool's now. */
  detach(): void {
    this.upstream.pause();
    const direct = directReadsOf(this.upstream);
    if (direct) direct.sink = undefined;
    this.upstream.off('data', this.onData).off('close', this.onClose).off('error', this.ignoreError);
    this.upstream.removeAllListeners('drain');
  }
}
