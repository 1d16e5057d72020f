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

/** How long a reset server connection waits for the grant's next login (pgbouncer's server_idle_timeout). */
const SERVER_IDLE_TIMEOUT_MS = 60_000;
const MAX_IDLE_SERVERS_PER_KEY = 32;

export interface ServerPoolOptions<T extends PooledServer> {
  /** Default 60 s. */
  readonly idleTimeoutMs?: number;
  /** Default 32. */
  readonly maxIdlePerKey?: number;
  /** Where grant ends are announced (SessionRegistry): the pool closes what it parked for the grant. */
  readonly grantEnds: { onGrantEnd(listener: (grantId: GrantId) => void): void };
  /** Server shutdown: every parked connection is closed. */
  readonly shutdown: AbortSignal;
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
  readonly #idleTimeoutMs: number;
  readonly #maxIdlePerKey: number;
  readonly #reset: (upstream: T) => Promise<T | undefined>;

  constructor(options: ServerPoolOptions<T>) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? SERVER_IDLE_TIMEOUT_MS;
    this.#maxIdlePerKey = options.maxIdlePerKey ?? MAX_IDLE_SERVERS_PER_KEY;
    this.#reset = options.reset;
    options.grantEnds.onGrantEnd((grantId) => this.closeGrant(grantId));
    options.shutdown.addEventListener('abort', () => this.closeAll(), { once: true });
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
    const reset = await this.#reset(upstream);
    this.#resetting.delete(upstream.socket);
    const list = this.#idle.get(key) ?? [];
    if (reset === undefined || list.length >= this.#maxIdlePerKey || upstream.socket.destroyed) {
      upstream.socket.destroy();
      return;
    }
    const { socket } = upstream;
    const drop = (): void => this.remove(entry, true);
    const timer = setTimeout(drop, this.#idleTimeoutMs);
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

/** After a chunk of the server's reply: undefined to read on, or the reset's outcome (its result undefined: not clean). */
export type ResetVerdict<T> = { readonly result: T | undefined } | undefined;

/**
 * A reset's conversation with a server connection nobody else reads: sends `request`, feeds each chunk of the reply
 * to `read` until it has a verdict, and resolves with its result — undefined when the connection closes or errors, or
 * no verdict comes within `timeoutMs`. Leaves the socket paused, with none of its own listeners.
 */
export function resetExchange<T>(socket: Socket, request: Buffer, timeoutMs: number, read: (chunk: Buffer) => ResetVerdict<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    const finish = (result: T | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose).off('error', onClose);
      socket.pause();
      resolve(result);
    };
    const onClose = (): void => finish(undefined);
    const onData = (chunk: Buffer): void => {
      const verdict = read(chunk);
      if (verdict !== undefined) finish(verdict.result);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('data', onData).on('close', onClose).on('error', onClose);
    socket.write(request);
    socket.resume();
  });
}
