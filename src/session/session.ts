// One client connection's lifetime (STYLE rule 8): a single AbortSignal that fires once, for exactly one reason —
// grant ended, server shutdown, client gone, protocol error. Sockets, upstream, timers and the tap hang off it.
import type { Grant } from '../access/grant.js';
import { newSessionId, type SessionId } from '../access/ids.js';

export type SessionEndReason =
  | { readonly kind: 'grant_expired' }
  | { readonly kind: 'grant_revoked' }
  | { readonly kind: 'client_closed' }
  | { readonly kind: 'upstream_closed'; readonly detail?: string }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'protocol_error'; readonly detail: string }
  | { readonly kind: 'audit_unavailable' }
  | { readonly kind: 'ended_by_admin'; readonly actor: string };

/** The short form stored with the session record and shown by `jitgate sessions`. */
export function describeEndReason(reason: SessionEndReason): string {
  switch (reason.kind) {
    case 'upstream_closed': return reason.detail ? `upstream_closed: ${reason.detail}` : 'upstream_closed';
    case 'protocol_error': return `protocol_error: ${reason.detail}`;
    case 'ended_by_admin': return `ended_by_admin: ${reason.actor}`;
    default: return reason.kind;
  }
}

export class SessionEnded extends Error {
  constructor(readonly reason: SessionEndReason) {
    super(`session ended: ${describeEndReason(reason)}`);
    this.name = 'SessionEnded';
  }
}

export interface SessionInit {
  readonly grant: Grant;
  readonly protocol: 'postgres' | 'mysql';
  readonly clientAddress: string;
  readonly tls: boolean;
  readonly program: string | null;
  /** Server shutdown: aborting it ends every session. */
  readonly shutdown: AbortSignal;
}

export class Session {
  readonly id: SessionId = newSessionId();
  readonly startedAt = new Date();
  readonly grant: Grant;
  readonly protocol: 'postgres' | 'mysql';
  readonly clientAddress: string;
  readonly tls: boolean;
  readonly program: string | null;
  readonly signal: AbortSignal;
  bytesIn = 0;
  bytesOut = 0;
  statements = 0;
  private readonly controller = new AbortController();
  private ended: SessionEndReason | undefined;

  constructor(init: SessionInit) {
    this.grant = init.grant;
    this.protocol = init.protocol;
    this.clientAddress = init.clientAddress;
    this.tls = init.tls;
    this.program = init.program;
    this.signal = this.controller.signal;
    // Shutdown ends the session like any other reason. A listener on the shutdown signal, removed when the session
    // ends, rather than AbortSignal.any: a combined signal costs an idle session two more EventTargets and WeakRefs.
    if (init.shutdown.aborted) {
      this.end({ kind: 'shutdown' });
    } else {
      const onShutdown = (): void => this.end({ kind: 'shutdown' });
      init.shutdown.addEventListener('abort', onShutdown, { once: true });
      this.signal.addEventListener('abort', () => init.shutdown.removeEventListener('abort', onShutdown), { once: true });
    }
  }

  /** The first reason wins; later calls are no-ops, so teardown runs once. */
  end(reason: SessionEndReason): void {
    if (this.ended) return;
    this.ended = reason;
    this.controller.abort(new SessionEnded(reason));
  }

  get endReason(): SessionEndReason | undefined {
    return this.ended;
  }

  get isEnded(): boolean {
    return this.signal.aborted;
  }
}
