// Live sessions by grant (expiry fans out to every session of a grant) and the minted cancel keys that route a
// CancelRequest on the proxy port to the right upstream backend (DESIGN §10: never forward the real key).
import { randomBytes } from 'node:crypto';
import type { GrantId } from '../access/ids.js';
import type { Session, SessionEndReason } from './session.js';

export interface UpstreamCancelTarget {
  readonly host: string;
  readonly port: number;
  readonly processId: number;
  readonly secretKey: number;
}

export interface MintedCancelKey {
  readonly processId: number;
  readonly secretKey: number;
}

interface CancelEntry {
  readonly session: Session;
  readonly upstream: UpstreamCancelTarget;
}

/**
 * Linux pid_max is at most 2^22 (PID_MAX_LIMIT), so no process — and no PostgreSQL backend — ever has a pid at or above
 * it; minted ids live in [2^22, 2^31) and stay positive int32s, which every client stores as a signed int.
 */
export const MINTED_PID_FLOOR = 2 ** 22;
const MINTED_PID_SPAN = 2 ** 31 - MINTED_PID_FLOOR;

const cancelKeyOf = (processId: number, secretKey: number): string => `${processId >>> 0}:${secretKey >>> 0}`;

export class SessionRegistry {
  private readonly byGrant = new Map<GrantId, Set<Session>>();
  private readonly cancelKeys = new Map<string, CancelEntry>();
  private readonly closedWaiters = new Map<Session, (() => void)[]>();
  private readonly grantEndListeners: ((grantId: GrantId) => void)[] = [];

  /** Called as a grant's sessions are ended, before they close: engines drop what they keep for the grant. */
  onGrantEnd(listener: (grantId: GrantId) => void): void {
    this.grantEndListeners.push(listener);
  }

  add(session: Session): void {
    let sessions = this.byGrant.get(session.grant.id);
    if (!sessions) this.byGrant.set(session.grant.id, (sessions = new Set()));
    sessions.add(session);
  }

  /** Called once the session's sockets are closed: it no longer counts for its grant and its cancel key dies. */
  remove(session: Session): void {
    const sessions = this.byGrant.get(session.grant.id);
    sessions?.delete(session);
    if (sessions?.size === 0) this.byGrant.delete(session.grant.id);
    for (const [key, entry] of this.cancelKeys) if (entry.session === session) this.cancelKeys.delete(key);
    for (const wake of this.closedWaiters.get(session) ?? []) wake();
    this.closedWaiters.delete(session);
  }

  sessionsOf(grantId: GrantId): Session[] {
    return [...(this.byGrant.get(grantId) ?? [])];
  }

  get size(): number {
    let total = 0;
    for (const sessions of this.byGrant.values()) total += sessions.size;
    return total;
  }

  /**
   * Ends every session of a grant and waits (bounded) until their engines have told the client and closed: the lease
   * is revoked only after that, so clients see "grant expired" rather than a dropped connection.
   */
  async endGrant(grantId: GrantId, reason: SessionEndReason, timeoutMs: number): Promise<number> {
    for (const listener of this.grantEndListeners) listener(grantId);
    const sessions = this.sessionsOf(grantId);
    const closed = sessions.map((session) => new Promise<void>((resolve) => {
      const waiters = this.closedWaiters.get(session) ?? [];
      waiters.push(resolve);
      this.closedWaiters.set(session, waiters);
    }));
    for (const session of sessions) session.end(reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
    return sessions.length;
  }

  /**
   * Mints a key for the client: the secret key is 32 random bits; the process id is random in [MINTED_PID_FLOOR, 2^31),
   * so a tool that feeds it to pg_terminate_backend or kill can never hit a real backend.
   */
  mintCancelKey(session: Session, upstream: UpstreamCancelTarget): MintedCancelKey {
    for (;;) {
      const bytes = randomBytes(8);
      const processId = MINTED_PID_FLOOR + (bytes.readUInt32BE(0) % MINTED_PID_SPAN);
      const minted = { processId, secretKey: bytes.readInt32BE(4) };
      const key = cancelKeyOf(minted.processId, minted.secretKey);
      if (this.cancelKeys.has(key)) continue;
      this.cancelKeys.set(key, { session, upstream });
      return minted;
    }
  }

  /** The upstream backend a minted key stands for; unknown keys are ignored, as PostgreSQL does. */
  lookupCancel(processId: number, secretKey: number): UpstreamCancelTarget | undefined {
    return this.cancelKeys.get(cancelKeyOf(processId, secretKey))?.upstream;
  }
}
