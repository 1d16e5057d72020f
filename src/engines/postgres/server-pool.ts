// Server connections kept after a client leaves cleanly, reset with DISCARD ALL (pgbouncer's server_reset_query in
// session mode) and handed to the next login of the same grant, lease and startup parameters. A client that connects
// per request then pays jitgate's login only, not a backend start and a SCRAM exchange each time. A parked connection
// belongs to its grant: it is closed when the grant ends (before the lease is revoked), after `idleTimeoutMs`, at
// shutdown, and whenever the server says anything while parked.
import type { Socket } from 'node:net';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { GrantId } from '../../access/ids.js';
import type { UpstreamSession } from './upstream.js';

export interface ServerPoolOptions {
  readonly idleTimeoutMs: number;
  readonly maxIdlePerKey: number;
  /** How long the reset may take before the connection is dropped instead. */
  readonly resetTimeoutMs?: number;
}

interface Parked {
  readonly key: string;
  readonly grantId: GrantId;
  readonly upstream: UpstreamSession;
  readonly release: () => void;
}


export class ServerPool {
  readonly #idle = new Map<string, Parked[]>();
  /** Connections being reset, by grant: a grant that ends meanwhile must not get them parked. */
  readonly #resetting = new Map<Socket, GrantId>();
  readonly #options: ServerPoolOptions;

  constructor(options: ServerPoolOptions) {
    this.#options = options;
  }

  /** A parked connection for `key`, detached from the pool and paused, or undefined. */
  take(key: string): UpstreamSession | undefined {
    const list = this.#idle.get(key);
    const parked = list?.pop();
    if (list?.length === 0) this.#idle.delete(key);
    if (parked === undefined) return undefined;
    parked.release();
    return parked.upstream;
  }

  /**
   * Resets `upstream` (idle, at a message boundary, no Terminate sent) and parks it under `key`; a connection that
   * cannot be reset, or finds its key full, is closed. Never throws.
   */
  async park(key: string, grantId: GrantId, upstream: UpstreamSession): Promise<void> {
    this.#resetting.set(upstream.socket, grantId);
    const parameterStatus = await resetServer(upstream.socket, this.#options.resetTimeoutMs ?? 2_000);
    this.#resetting.delete(upstream.socket);
    const list = this.#idle.get(key) ?? [];
    if (parameterStatus === undefined || list.length >= this.#options.maxIdlePerKey || upstream.socket.destroyed) {
      upstream.socket.destroy();
      return;
    }
    const merged = new Map(upstream.parameterStatus);
    for (const [name, value] of parameterStatus) merged.set(name, value);
    const reset: UpstreamSession = { ...upstream, parameterStatus: [...merged] };
    const { socket } = upstream;
    const drop = (): void => this.remove(entry, true);
    const timer = setTimeout(drop, this.#options.idleTimeoutMs);
    timer.unref();
    const entry: Parked = {
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

  private remove(entry: Parked, destroy: boolean): void {
    const list = this.#idle.get(entry.key);
    const index = list?.indexOf(entry) ?? -1;
    if (list !== undefined && index >= 0) list.splice(index, 1);
    if (list?.length === 0) this.#idle.delete(entry.key);
    entry.release();
    if (destroy) entry.upstream.socket.destroy();
  }
}

/**
 * Sends DISCARD ALL and reads to ReadyForQuery('I'): the ParameterStatus values the reset reported, or undefined when
 * the server answered anything else (an error, a notification, bytes past ReadyForQuery) or not in time.
 */
function resetServer(socket: Socket, timeoutMs: number): Promise<Map<string, string> | undefined> {
  return new Promise((resolve) => {
    const parser = new Parser();
    const reported = new Map<string, string>();
    let completed = false;
    // Set at ReadyForQuery: its verdict, which a message after it in the same chunk overturns.
    let verdict: boolean | undefined;
    const finish = (result: Map<string, string> | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose).off('error', onClose);
      socket.pause();
      resolve(result);
    };
    const onClose = (): void => finish(undefined);
    const onMessage = (message: BackendMessage): void => {
      const fields = message as BackendMessage & Record<string, unknown>;
      if (verdict !== undefined) verdict = false;
      else if (message.name === 'commandComplete') completed = fields.text === 'DISCARD ALL';
      else if (message.name === 'parameterStatus') reported.set(String(fields.parameterName), String(fields.parameterValue));
      else if (message.name === 'readyForQuery') verdict = completed && fields.status === 'I';
      else if (message.name !== 'notice') verdict = false; // anything else means the connection is not clean
    };
    const onData = (chunk: Buffer): void => {
      try {
        parser.parse(chunk, onMessage);
      } catch {
        verdict = false;
      }
      if (verdict !== undefined) finish(verdict ? reported : undefined);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('data', onData).on('close', onClose).on('error', onClose);
    socket.write(serialize.query('DISCARD ALL'));
    socket.resume();
  });
}
