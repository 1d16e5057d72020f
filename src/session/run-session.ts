// The session core: steps 4–8 of every session, for both wire protocols, once (STYLE rule 9; DESIGN §4). After a
// protocol's own login steps (1–3: TLS, startup/handshake, the grant proven) its engine hands over a ProtocolSession,
// and from here one piece of code runs the life: session start (row, event, registry) → 4 the grant's lease →
// 5 the upstream login (a parked server connection when one fits; a lease the database refuses re-issued once) →
// 6 the client made ready → 7 the relay (relay-core.ts) with the protocol's framing and tap → 8 teardown in DESIGN
// §4's order and the session's end recorded. The protocol supplies only what differs: its bytes and its errors.
import type { Socket } from 'node:net';
import type { Grant } from '../access/grant.js';
import { SessionStatementRecorder } from '../audit/statement-recorder.js';
import type { SqlDialect } from '../audit/sql-scan.js';
import type { ResourceConfig } from '../config/schema.js';
import type { Lease } from '../credentials/broker.js';
import { RelayCore, type RelayFraming } from '../net/relay-core.js';
import { ServerPool, type PooledServer } from '../net/server-pool.js';
import { DurableReplyGate } from './durable-replies.js';
import { emitSafely, recordSessionEnd, recordSessionStart } from './session-end.js';
import type { SessionCoreDeps } from './session-deps.js';
import { Session, type SessionEndReason } from './session.js';
import { UpstreamFailure } from './upstream-failure.js';

/**
 * A client must finish its protocol's login (TLS, startup or handshake, proving the grant) within this time, on either
 * port: PostgreSQL's authentication_timeout.
 */
const LOGIN_TIMEOUT_MS = 60_000;

/** Aborts when a login took too long or jitgate shuts down: steps 1–3 of every session run under it. */
export function loginSignal(shutdown: AbortSignal): AbortSignal {
  return AbortSignal.any([AbortSignal.timeout(LOGIN_TIMEOUT_MS), shutdown]);
}

/** The per-session safety net fires this long after the grant's end, in case the grant's end event is late. */
const EXPIRY_SAFETY_MARGIN_MS = 2_000;

/** The protocol half of a running session: the relay's framing plus the tap behind it. */
export interface SessionFraming extends RelayFraming {
  /** The session is ending (called at once, before the relay closes): let go of what names it to other sessions. */
  ending?(): void;
  /** The session is over: what is still in flight is recorded as ended for `reason`. */
  abandon(reason: SessionEndReason): void;
}

/** What a protocol's engine hands the core once its client has proven a grant that may connect (steps 1–3 done). */
export interface ProtocolSession<U extends PooledServer> {
  readonly client: Socket;
  /** Client bytes read past the login, to be relayed first. */
  readonly leftover: Buffer;
  readonly clientAddress: string;
  readonly tls: boolean;
  readonly program: string | null;
  readonly grant: Grant;
  readonly resource: ResourceConfig;
  /** Which parked server connections this client may take (same lease user and session shape). */
  serverKey(lease: Lease): string;
  /** Step 5: a new server connection logged in as `lease`; a failure is an UpstreamFailure or a broker error. */
  connect(lease: Lease, signal: AbortSignal): Promise<U>;
  /** Steps 4–5 failed (`error`) or the session ended meanwhile (`ended`): what the client is told before the close. */
  loginFailure(error: unknown, ended: SessionEndReason | undefined): Buffer | undefined;
  /** Step 6: the bytes that complete the client's login on `upstream`. */
  introduce(upstream: U, session: Session): Buffer;
  /** Step 7: the protocol's framing and tap for this session. */
  framing(upstream: U, session: Session, recorder: SessionStatementRecorder, lease: Lease): SessionFraming;
  /** A warning before the grant's end, where the protocol can tell an idle client (Postgres: a NoticeResponse). */
  expiryWarning?(secondsLeft: number): Buffer;
}

export interface SessionCoreOptions<U extends PooledServer> {
  readonly protocol: 'postgres' | 'mysql';
  readonly dialect: SqlDialect;
  /** Returns a server connection to a clean session for the next client (server-pool.ts). */
  readonly reset: (upstream: U) => Promise<U | undefined>;
}

const describeFailure = (error: unknown): string => (error instanceof UpstreamFailure ? error.message
  : `cannot obtain database credentials: ${error instanceof Error ? error.message : String(error)}`);

export class SessionCore<U extends PooledServer> {
  private readonly servers: ServerPool<U>;

  constructor(private readonly deps: SessionCoreDeps, private readonly options: SessionCoreOptions<U>) {
    this.servers = new ServerPool({ reset: options.reset, grantEnds: deps.sessions, shutdown: deps.shutdown });
  }

  /** Parked server connections (for tests and metrics). */
  get parkedServers(): number {
    return this.servers.size;
  }

  async run(login: ProtocolSession<U>): Promise<void> {
    const { deps } = this;
    const { grant, resource, client } = login;
    const session = new Session({ grant, protocol: this.options.protocol, clientAddress: login.clientAddress, tls: login.tls,
      program: login.program, shutdown: deps.shutdown });
    deps.sessions.add(session);
    const startedMs = Date.now();
    this.recordStart(session, resource);
    let replyGate: DurableReplyGate | undefined;
    const recorder = new SessionStatementRecorder({ audit: deps.audit, session: session.id, grant: grant.id, dialect: this.options.dialect,
      parameters: deps.parameters, maxSqlBytes: deps.maxAuditSqlBytes,
      ...(deps.holdRepliesForAudit === true ? { onRecorded: (written: Promise<void>) => replyGate?.recorded(written) } : {}),
      onLost: (error) => deps.logger.error({ err: error, session: session.id }, 'statement event not recorded: the audit log is already closed') });

    // Steps 4–5: the grant's one lease, then a server connection logged in as its user.
    let obtained: { readonly upstream: U; readonly lease: Lease; readonly serverKey: string | undefined };
    try {
      obtained = await this.obtainUpstream(login, session);
    } catch (error) {
      const told = login.loginFailure(error, session.isEnded ? session.endReason ?? { kind: 'shutdown' } : undefined);
      if (told !== undefined) client.end(told); else client.destroy();
      session.end({ kind: 'upstream_closed', detail: describeFailure(error) });
      await recordSessionEnd(deps, session, recorder.count, startedMs);
      return;
    }
    const { upstream, lease, serverKey } = obtained;

    // Step 6: the client is ready.
    client.write(login.introduce(upstream, session));

    // Step 7: relay until either side or the grant ends.
    const framing = login.framing(upstream, session, recorder, lease);
    if (deps.holdRepliesForAudit === true) {
      replyGate = new DurableReplyGate(client, upstream.socket, () => relay.flushNotice(), () => session.end({ kind: 'audit_unavailable' }));
    }
    const relay = new RelayCore(client, upstream.socket, framing, {
      ...(replyGate === undefined ? {} : { replyGate }),
      end: (reason) => session.end(reason),
      counted: session,
      // Only a client that left on its own: every other end (expiry, revocation, shutdown) closes the server too.
      keepUpstream: () => serverKey !== undefined && session.endReason?.kind === 'client_closed' && !deps.shutdown.aborted,
    });
    const timers = this.scheduleExpiry(session, relay, login);
    session.signal.addEventListener('abort', () => {
      framing.ending?.();
      const reason = session.endReason ?? { kind: 'shutdown' };
      if (reason.kind === 'client_closed' || reason.kind === 'upstream_closed') relay.shutdown(reason);
      else relay.close(reason);
    }, { once: true });
    relay.start(login.leftover);
    // Returned, not awaited: the login's locals (the lease, its password, the handshake) go now.
    return this.untilSessionEnds(session, relay, framing, recorder, timers, startedMs, serverKey, upstream);
  }

  private recordStart(session: Session, resource: ResourceConfig): void {
    const { grant } = session;
    recordSessionStart(this.deps, session, {
      id: session.id, grantId: grant.id, resource: resource.name, role: grant.role, user: grant.requester, protocol: session.protocol,
      clientAddress: session.clientAddress, clientProgram: session.program, tls: session.tls, startedAt: session.startedAt,
      endedAt: null, endReason: null, bytesIn: 0, bytesOut: 0, statements: 0,
    });
    emitSafely(this.deps.audit, this.deps.logger, { type: 'session.started', session: session.id, grant: grant.id, resource: resource.name,
      protocol: session.protocol, user: grant.requester, client: session.clientAddress, tls: session.tls,
      ...(session.program ? { program: session.program } : {}) });
  }

  /**
   * The lease (issued at the grant's first session), then a parked server connection that fits or a new login. A user
   * the database refuses (dropped behind jitgate's back) is re-issued once; a second refusal is the client's answer.
   */
  private async obtainUpstream(login: ProtocolSession<U>, session: Session): Promise<{ upstream: U; lease: Lease; serverKey: string | undefined }> {
    const { grant, resource } = login;
    let lease = await this.deps.leases.acquire(grant);
    await this.deps.grants.activate(grant);
    // A lease revoked when its last session leaves (teardown on_disconnect) keeps no server connections.
    const keyOf = (current: Lease): string | undefined => (resource.teardown.mode === 'on_disconnect' ? undefined : login.serverKey(current));
    const parkedKey = keyOf(lease);
    const parked = parkedKey === undefined ? undefined : this.servers.take(parkedKey);
    if (parked !== undefined) return { upstream: parked, lease, serverKey: parkedKey };
    const upstream = await login.connect(lease, session.signal).catch(async (error: unknown) => {
      if (!(error instanceof UpstreamFailure && error.rejectsLease)) throw error;
      lease = await this.deps.leases.reissue(grant, lease);
      return login.connect(lease, session.signal);
    });
    // The lease the connection is logged in as: a re-issued one has its own password (and, from Vault, its own id).
    return { upstream, lease, serverKey: keyOf(lease) };
  }

  /** The warning before the end (where the protocol has one), and a safety net in case the grant's end event is late. */
  private scheduleExpiry(session: Session, relay: RelayCore, login: ProtocolSession<U>): NodeJS.Timeout[] {
    const untilEnd = session.grant.expiresAt.getTime() - Date.now();
    const timers: NodeJS.Timeout[] = [];
    const warnIn = untilEnd - this.deps.warnBeforeMs;
    const warning = login.expiryWarning;
    if (warning !== undefined && warnIn > 0) {
      timers.push(setTimeout(() => relay.notify(warning((session.grant.expiresAt.getTime() - Date.now()) / 1000)), warnIn));
    }
    timers.push(setTimeout(() => session.end({ kind: 'grant_expired' }), Math.max(0, untilEnd) + EXPIRY_SAFETY_MARGIN_MS));
    for (const timer of timers) timer.unref();
    return timers;
  }

  /** Step 8, once the relay is done: a clean server connection is parked, the session's end recorded (the lease ends with its grant). */
  private async untilSessionEnds(session: Session, relay: RelayCore, framing: SessionFraming, recorder: SessionStatementRecorder,
    timers: readonly NodeJS.Timeout[], startedMs: number, serverKey: string | undefined, upstream: U): Promise<void> {
    await relay.done;
    framing.ending?.(); // already, unless the session ended before its abort listener was in place
    if (relay.keptUpstream && serverKey !== undefined) void this.servers.park(serverKey, session.grant.id, upstream);
    for (const timer of timers) clearTimeout(timer);
    framing.abandon(session.endReason ?? { kind: 'shutdown' });
    await recordSessionEnd(this.deps, session, recorder.count, startedMs);
  }
}
