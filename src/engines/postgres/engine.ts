// The Postgres engine: one client connection from accept to close, as numbered steps (STYLE rule 9).
//   1 negotiateTls + 2 readStartup → 3 authenticateGrant → session start → 4 acquireLease → 5 connectUpstream
//   → 6 introduce (ParameterStatus, minted BackendKeyData, ReadyForQuery) → 7 relay → 8 teardown.
// Every refusal is a protocol error naming its reason; every outcome is an audit event.
import type { Socket } from 'node:net';
import { encodeAuthenticationOk } from '../../../protocols/postgres/backend-auth.js';
import { encodeErrorResponse, encodeErrorResponseV2, encodeNoticeResponse, type ErrorFields } from '../../../protocols/postgres/backend-error.js';
import { encodeBackendKeyData, encodeParameterStatus, encodeReadyForQuery } from '../../../protocols/postgres/backend-status.js';
import { fieldsForWireError, pgError, pgNotice, startupRefusal } from '../../../protocols/postgres/sqlstate.js';
import { StartupPacketError } from '../../../protocols/postgres/startup.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { Grant } from '../../access/grant.js';
import type { AuditEventInput } from '../../audit/events.js';
import { SessionStatementRecorder } from '../../audit/statement-recorder.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { Lease } from '../../credentials/broker.js';
import { ServerPool } from '../../net/server-pool.js';
import { DurableReplyGate } from '../../session/durable-replies.js';
import { describeEndReason, Session, type SessionEndReason } from '../../session/session.js';
import { emitSafely, recordSessionEnd, recordSessionStart } from '../../session/session-end.js';
import { ClientClosed } from './client-reader.js';
import { authenticateGrant } from './authenticate.js';
import type { PostgresEngineDeps } from './deps.js';
import { PostgresRelay } from './relay.js';
import { resetPostgresServer } from './server-reset.js';
import { readStartup } from './startup-phase.js';
import { PostgresTap } from './tap.js';
import { connectUpstream, sendUpstreamCancel, UpstreamError, type UpstreamSession } from './upstream.js';

/** A client must finish startup and authentication within this time (PostgreSQL's authentication_timeout is 60s). */
const LOGIN_TIMEOUT_MS = 60_000;
/** Startup parameters that are jitgate's to decide, never passed on. */
const RESERVED_PARAMETERS = new Set(['user', 'database', 'replication']);

const fatal = (fields: ErrorFields<'FATAL'>): Buffer => encodeErrorResponse(fields);

function clientAddress(socket: Socket): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
}

/** Which parked server connections a login may take: same lease user, database and startup parameters. */
function serverKeyOf(leaseId: string, resource: ResourceConfig, parameters: Readonly<Record<string, string>>): string {
  const sorted = Object.entries(parameters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([leaseId, resource.name, resource.database, sorted]);
}

/** What the client is told when its session ends for `reason` (DESIGN §4 step 3). */
function fatalFor(reason: SessionEndReason, grant: string): Buffer | undefined {
  switch (reason.kind) {
    case 'grant_expired': return fatal(pgError.grantExpired(grant));
    case 'grant_revoked':
    case 'ended_by_admin': return fatal(pgError.grantRevoked(grant));
    case 'shutdown': return fatal(pgError.adminShutdown());
    case 'protocol_error': return fatal(pgError.protocolViolation(reason.detail));
    case 'audit_unavailable': return encodeErrorResponse(pgError.auditUnavailable('FATAL'));
    case 'client_closed':
    case 'upstream_closed': return undefined;
  }
}

/**
 * Step 6's bytes, in one write: the SCRAM exchange's AuthenticationSASLFinal, AuthenticationOk, the server's
 * ParameterStatus values, jitgate's cancel key, ReadyForQuery.
 */
function introduction(serverFinal: Buffer, parameterStatus: readonly (readonly [string, string])[], key: { processId: number; secretKey: number }): Buffer {
  const messages = [serverFinal, encodeAuthenticationOk()];
  for (const [name, value] of parameterStatus) messages.push(encodeParameterStatus(name, value));
  messages.push(encodeBackendKeyData(key.processId, key.secretKey), encodeReadyForQuery('I'));
  return Buffer.concat(messages);
}

export class PostgresEngine {
  private readonly servers: ServerPool<UpstreamSession>;

  constructor(private readonly deps: PostgresEngineDeps) {
    this.servers = new ServerPool({ reset: resetPostgresServer, grantEnds: deps.sessions, shutdown: deps.shutdown });
  }

  async handleConnection(socket: Socket): Promise<void> {
    const address = clientAddress(socket);
    const login = AbortSignal.any([AbortSignal.timeout(LOGIN_TIMEOUT_MS), this.deps.shutdown]);
    const refuse = (fields: ErrorFields<'FATAL'>, target: Socket = socket): void => {
      if (!target.destroyed) target.end(fatal(fields));
    };

    // Steps 1–2: TLS negotiation and the startup packet (or a CancelRequest).
    let startup;
    try {
      startup = await readStartup(socket, login, this.deps.tls.context, this.deps.sessions);
    } catch {
      socket.destroy(); // closed, timed out, or a TLS handshake that failed: nothing to answer
      return;
    }
    if (startup.type === 'refused') {
      // Bytes that are not a startup packet (an oversized one, an HTTP request, a Terminate, noise) are refused as
      // the server refuses them — most without a byte — and recorded; a connection that merely closes (a port
      // probe) is not an event.
      const { error, socket: current } = startup;
      const refusal = startupRefusal(error);
      const detail = error instanceof StartupPacketError && error.detail !== undefined ? ` (${error.detail})` : '';
      this.emit({ type: 'session.auth_failed', protocol: 'postgres', client: address, user: '',
        reason: `protocol violation: ${error.message}${detail}`, code: refusal.fields.code });
      if (refusal.send === 'nothing') current.destroy();
      else if (!current.destroyed) current.end(refusal.send === 'fatal_v2' ? encodeErrorResponseV2(refusal.fields) : fatal(refusal.fields));
      return;
    }
    if (startup.type === 'cancelled') return;
    const { socket: client, reader, tls, parameters } = startup;
    const user = parameters.user ?? '';
    const authFailed = (reason: string, code: string): void => {
      this.emit({ type: 'session.auth_failed', protocol: 'postgres', client: address, user: user.slice(0, 64), reason, code });
    };
    if (this.deps.tls.require && !tls) {
      authFailed('TLS required', '08004');
      return refuse(pgError.tlsRequired(), client);
    }
    if (parameters.replication !== undefined && parameters.replication !== 'false' && parameters.replication !== 'off') {
      authFailed('replication connection', '0A000');
      return refuse(pgError.featureNotSupported('replication connections are not supported by jitgate') as ErrorFields<'FATAL'>, client);
    }

    // Step 3: authenticate the grant.
    let auth;
    try {
      auth = await authenticateGrant((bytes) => client.write(bytes), reader, parameters, address, this.deps);
    } catch (error) {
      if (error instanceof WireFormatError) {
        authFailed(`protocol violation: ${error.message}`, '08P01');
        refuse(fieldsForWireError(error), client);
      } else {
        if (!(error instanceof ClientClosed)) this.deps.logger.warn({ err: error, client: address }, 'postgres login failed');
        authFailed(error instanceof ClientClosed ? 'client closed during login' : 'login timed out', '08006');
        client.destroy();
      }
      return;
    }
    if (!auth.ok) {
      authFailed(auth.reason, auth.error.code);
      // A client that proved its token hears so (SASLFinal) before why it still may not connect.
      if (auth.serverFinal !== undefined && !client.destroyed) client.end(Buffer.concat([auth.serverFinal, fatal(auth.error)]));
      else refuse(auth.error, client);
      return;
    }
    const leftover = reader.detach();
    // Returned, not awaited: this frame (startup, reader, login signal) is not kept for the session's lifetime.
    return this.runSession(client, leftover, tls, parameters, address, auth.grant, auth.resource, auth.serverFinal);
  }

  private async runSession(client: Socket, leftover: Buffer, tls: boolean, parameters: Readonly<Record<string, string>>,
    address: string, grant: Grant, resource: ResourceConfig, serverFinal: Buffer): Promise<void> {
    const { deps } = this;
    const session = new Session({ grant, protocol: 'postgres', clientAddress: address, tls, program: parameters.application_name ?? null, shutdown: deps.shutdown });
    deps.sessions.add(session);
    const started = Date.now();
    recordSessionStart(deps, session, {
      id: session.id, grantId: grant.id, resource: resource.name, role: grant.role, user: grant.requester, protocol: 'postgres',
      clientAddress: address, clientProgram: session.program, tls, startedAt: session.startedAt, endedAt: null, endReason: null,
      bytesIn: 0, bytesOut: 0, statements: 0,
    });
    this.emit({ type: 'session.started', session: session.id, grant: grant.id, resource: resource.name, protocol: 'postgres',
      user: grant.requester, client: address, tls, ...(session.program ? { program: session.program } : {}) });

    let replyGate: DurableReplyGate | undefined;
    const recorder = new SessionStatementRecorder({ audit: deps.audit, session: session.id, grant: grant.id, dialect: 'postgres',
      parameters: deps.parameters, maxSqlBytes: deps.maxAuditSqlBytes,
      ...(deps.holdRepliesForAudit === true ? { onRecorded: (written: Promise<void>) => replyGate?.recorded(written) } : {}),
      onLost: (error) => deps.logger.error({ err: error, session: session.id }, 'statement event not recorded: the audit log is already closed') });
    let upstream: UpstreamSession | undefined;
    let serverKey: string | undefined;
    try {
      // Step 4: the grant's one shared lease (issued at first use).
      let lease = await deps.leases.acquire(grant);
      await deps.grants.activate(grant);
      // Step 5: log in upstream as the lease user; a user the database refuses (dropped behind jitgate's back) is
      // re-issued once, and a second refusal is the client's answer.
      const passThrough: Record<string, string> = {};
      for (const [name, value] of Object.entries(parameters)) if (!RESERVED_PARAMETERS.has(name)) passThrough[name] = value;
      // A lease revoked when its last session leaves (teardown on_disconnect) keeps no server connections.
      const keyOf = (current: Lease): string | undefined => (resource.teardown.mode === 'on_disconnect' ? undefined : serverKeyOf(current.leaseId, resource, passThrough));
      const connect = (current: Lease): Promise<UpstreamSession> => connectUpstream(
        { resource, user: current.username, password: current.password.reveal(), database: resource.database, parameters: passThrough }, session.signal);
      serverKey = keyOf(lease);
      upstream = (serverKey === undefined ? undefined : this.servers.take(serverKey)) ?? await connect(lease).catch(async (error: unknown) => {
        if (!(error instanceof UpstreamError && error.rejectsLease)) throw error;
        lease = await deps.leases.reissue(grant, lease);
        return connect(lease);
      });
      serverKey = keyOf(lease); // the lease the connection is logged in as (one from Vault has its own id)
    } catch (error) {
      const message = error instanceof UpstreamError ? error.message : `cannot obtain database credentials: ${error instanceof Error ? error.message : String(error)}`;
      // The database's own refusal of the lease user is passed on as it is; only a server that did not answer is 08006.
      const answer = error instanceof UpstreamError ? error.serverAnswer : undefined;
      const told = session.isEnded ? fatalFor(session.endReason ?? { kind: 'shutdown' }, grant.id) : fatal(answer ?? pgError.upstreamUnavailable(message));
      if (told) client.end(Buffer.concat([serverFinal, told]));
      else client.destroy();
      session.end({ kind: 'upstream_closed', detail: message });
      await this.endSession(session, recorder.count, started);
      return;
    }

    // Step 6: introduce the session — the server's parameters, a minted cancel key, ready.
    const minted = deps.sessions.mintCancelKey(session, { host: resource.host, port: resource.port, processId: upstream.processId, secretKey: upstream.secretKey });
    client.write(introduction(serverFinal, upstream.parameterStatus, minted));

    // Step 7: relay until either side or the grant ends.
    const tap = new PostgresTap(recorder);
    const upstreamSession = upstream;
    if (deps.holdRepliesForAudit === true) {
      replyGate = new DurableReplyGate(client, upstream.socket, () => relay.flushNotice(), () => session.end({ kind: 'audit_unavailable' }));
    }
    const relay = new PostgresRelay(client, upstream.socket, session, tap, {
      ...(replyGate === undefined ? {} : { replyGate }),
      auditAccepting: () => deps.audit.accepting(),
      refusal: (status) => Buffer.concat([encodeErrorResponse(pgError.auditUnavailable()), encodeReadyForQuery(status)]),
      onViolation: (detail, kind) => session.end(kind === 'audit' ? { kind: 'audit_unavailable' } : { kind: 'protocol_error', detail }),
      cancelInFlight: () => { void sendUpstreamCancel(resource.host, resource.port, upstreamSession.processId, upstreamSession.secretKey); },
      // Only a client that left on its own: every other end (expiry, revocation, shutdown) closes the server too.
      keepUpstream: () => serverKey !== undefined && session.endReason?.kind === 'client_closed' && !deps.shutdown.aborted,
    }, deps.maxMessageBytes);
    const timers = this.scheduleExpiry(session, relay);
    session.signal.addEventListener('abort', () => {
      const reason = session.endReason ?? { kind: 'shutdown' };
      if (reason.kind === 'client_closed' || reason.kind === 'upstream_closed') relay.shutdown();
      else relay.close(fatalFor(reason, grant.id));
    }, { once: true });
    relay.start(leftover);
    const park = serverKey === undefined ? undefined : (): void => { void this.servers.park(serverKey, grant.id, upstreamSession); };
    // Returned, not awaited, as above: the login's locals (the lease, its password, the parameters) go now.
    return this.untilSessionEnds(session, relay, tap, recorder, timers, started, park);
  }

  /** Step 8, once the relay is done: teardown bookkeeping (the lease itself ends with the grant, DESIGN §4). */
  private async untilSessionEnds(session: Session, relay: PostgresRelay, tap: PostgresTap, recorder: SessionStatementRecorder,
    timers: readonly NodeJS.Timeout[], started: number, park: (() => void) | undefined): Promise<void> {
    await relay.done;
    // A server connection the relay handed back is reset and parked before the session's end is counted.
    if (relay.keptUpstream) park?.();
    for (const timer of timers) clearTimeout(timer);
    tap.abandon({ code: '57P01', message: `session ended: ${describeEndReason(session.endReason ?? { kind: 'shutdown' })}` });
    await this.endSession(session, recorder.count, started);
  }

  /** The warning notice before the end, and a per-session safety net in case the grant's end event is late. */
  private scheduleExpiry(session: Session, relay: PostgresRelay): NodeJS.Timeout[] {
    const untilEnd = session.grant.expiresAt.getTime() - Date.now();
    const timers: NodeJS.Timeout[] = [];
    const warnIn = untilEnd - this.deps.warnBeforeMs;
    if (warnIn > 0) {
      timers.push(setTimeout(() => {
        const seconds = (session.grant.expiresAt.getTime() - Date.now()) / 1000;
        relay.notify(encodeNoticeResponse(pgNotice.expiryWarning(session.grant.id, seconds)));
      }, warnIn));
    }
    timers.push(setTimeout(() => session.end({ kind: 'grant_expired' }), Math.max(0, untilEnd) + 2_000));
    for (const timer of timers) timer.unref();
    return timers;
  }

  private endSession(session: Session, statements: number, started: number): Promise<void> {
    return recordSessionEnd(this.deps, session, statements, started);
  }


  /**
   * Queues an audit event. emit() rejects only once the audit log is closed (a failing sink makes it wait, never
   * reject), which only an event racing jitgate's own shutdown can meet: that loss is logged loudly, never unhandled.
   */
  private emit(event: AuditEventInput): void {
    emitSafely(this.deps.audit, this.deps.logger, event);
  }

}
