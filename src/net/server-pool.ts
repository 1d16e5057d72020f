// Server connections kept after a client leaves cleanly, reset the engine's way (DISCARD ALL on Postgres,
// COM_RESET_CONNECTION on MySQL — pgbouncer's server_reset_query in session mode) and handed to the next login of the
// same grant, lease and session parameters. A client that connects per request then pays jitgate's login only, not a
// backend start and an upstream authentication each time. A parked connection belongs to its grant: it is closed when
// the grant ends (before the lease is revoked), after `idleTimeoutMs`, at shutdown, and whenever the server says
// anything while parked.
import type { Socket } from 'node:net';
import type { GrantId } from '../access/ids.js';

/** What the pool needs of an engine's upstream session: its socket. */
export interface PooledServer {
  readonly socket: Socket;
}

export interface ServerPoolOptions<T extends PooledServer> {
  readonly idleTimeoutMs: number;
  readonly maxIdlePerKey: number;
  /**
   * Returns the connection to a clean session (the socket left paused, no listeners of its own), as the session the
   * next client gets; undefined when it could not be reset. Never throws.
   */
  readonly reset: (upstream: T) => Promise<T | undefined>;
}

interface Parked<T> {
  readonly key: string;
  readonly grantId: GrantId;
  readonly upstream: T;
  readonly release: () => void;
}

export class ServerPool<T extends PooledServer> {
  readonly #idle = new Map<string, Parked<T>[]>();
  /** Connections being reset, by grant: a grant that ends meanwhile must not get them parked. */
  readonly #resetting = new Map<Socket, GrantId>();
  readonly #options: ServerPoolOptions<T>;

  constructor(options: ServerPoolOptions<T>) {
    this.#options = options;
  }

  /** A parked connection for `key`, detached from the pool and paused, or undefined. */
  take(key: string): T | undefined {
    const list = this.#idle.get(key);
    const parked = list?.pop();
    if (list?.length === 0) this.#idle.delete(key);
    if (parked === undefined) return undefined;
    parked.release();
    return parked.upstream;
  }

  /**
   * Resets `upstream` (idle, at a message boundary, the client's goodbye withheld) and parks it under `key`; a connection that
   * cannot be reset, or finds its key full, is closed. Never throws.
   */
  async park(key: string, grantId: GrantId, upstream: T): Promise<void> {
    this.#resetting.set(upstream.socket, grantId);
    const reset = await this.#options.reset(upstream);
    this.#resetting.delete(upstream.socket);
    const list = this.#idle.get(key) ?? [];
    if (reset === undefined || list.length >= this.#options.maxIdlePerKey || upstream.socket.destroyed) {
      upstream.socket.destroy();
      return;
    }
    const { socket } = upstream;
    const drop = (): void => this.remove(entry, true);
    const timer = setTimeout(drop, this.#options.idleTimeoutMs);
    timer.unref();
    const entry: Parked<T> = {
      key, grantId, upstream: reset,
      release: () => {
        clearTimeout(timer);
        socket.off('data', drop).off('close', drop).off('error', drop);
        socket.pause(); // until the relay that takes it starts reading
      },
    };
    socket.on('data', drop).on('close', drop).on('error', drop);
    socket.resume(); // a parked server speaks only to end the connection: reading is how we notice
    list.push(entry);
    this.#idle.set(key, list);
  }

  /** Closes what the grant has parked: called as the grant ends, before its lease is revoked. */
  closeGrant(grantId: GrantId): number {
    let closed = 0;
    for (const [socket, owner] of this.#resetting) {
      if (owner === grantId) {
        socket.destroy(); // the reset then fails and parks nothing
        closed++;
      }
    }
    for (const list of [...this.#idle.values()]) {
      for (const entry of [...list]) {
        if (entry.grantId === grantId) {
          this.remove(entry, true);
          closed++;
        }
      }
    }
    return closed;
  }

  closeAll(): void {
    for (const socket of this.#resetting.keys()) socket.destroy();
    for (const list of [...this.#idle.values()]) for (const entry of [...list]) this.remove(entry, true);
  }

  get size(): number {
    let total = 0;
    for (const list of this.#idle.values()) total += list.length;
    return total;
  }

  private remove(entry: Parked<T>, destroy: boolean): void {
    const list = this.#idle.get(entry.key);
    const index = list?.indexOf(entry) ?? -1;
    if (list !== undefined && index >= 0) list.splice(index, 1);
    if (list?.length === 0) this.#idle.delete(entry.key);
    entry.release();
    if (destroy) entry.upstream.socket.destroy();
  }
}
