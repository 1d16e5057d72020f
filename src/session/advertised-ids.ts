// The connection ids a protocol advertises to its clients before there is a server connection (MySQL's greeting
// carries one; Postgres' minted cancel keys live in registry.ts), and the server's own id behind each live session.
// The advertised id is jitgate's; once the session has its upstream (new or reused, src/net/server-pool.ts) it maps to
// that connection's server id, until the session ends. A KILL by id (engines/mysql/kill-statement.ts) resolves
// through here, and only within the client's own grant.
import type { GrantId } from '../access/ids.js';

interface LiveThread {
  readonly grant: GrantId;
  readonly serverThreadId: number;
}

/** Ids stay positive signed 32-bit values: clients store the greeting's connection id as one. */
const MAX_ADVERTISED_ID = 0x7fffffff;

export class AdvertisedIds {
  private last = 0;
  private readonly live = new Map<number, LiveThread>();

  /** The id for the next greeting: counting up from 1, wrapping, never one a live session still has. */
  mint(): number {
    do this.last = (this.last % MAX_ADVERTISED_ID) + 1; while (this.live.has(this.last));
    return this.last;
  }

  /** The session greeted with `advertisedId` (of `grant`) is relayed to the server thread `serverThreadId`. */
  bind(advertisedId: number, grant: GrantId, serverThreadId: number): void {
    this.live.set(advertisedId, { grant, serverThreadId });
  }

  /** The session ended: its id names nothing any more (its server connection may go to another session). */
  release(advertisedId: number): void {
    this.live.delete(advertisedId);
  }

  /** The server thread of the live session advertised as `advertisedId`, if that session belongs to `grant`. */
  serverThreadOf(advertisedId: bigint, grant: GrantId): number | undefined {
    if (advertisedId < 1n || advertisedId > BigInt(MAX_ADVERTISED_ID)) return undefined;
    const thread = this.live.get(Number(advertisedId));
    return thread?.grant === grant ? thread.serverThreadId : undefined;
  }

  get size(): number {
    return this.live.size;
  }
}
