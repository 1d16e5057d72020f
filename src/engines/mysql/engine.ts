// The MySQL engine: one client connection from accept to close, as numbered steps (STYLE rule 9).
//   1 greet (HandshakeV10, TLS) → 2 read HandshakeResponse41 → 3 authenticate the grant → session start
//   → 4 acquire the lease → 5 log in upstream → 6 the client's OK → 7 relay → 8 teardown.
import type { Socket } from 'node:net';
import { encodePacket } from '../../../protocols/mysql/packet-framer.js';
import { mysqlError, errorForWireFormat, ServerErrno } from '../../../protocols/mysql/server-errors.js';
import { encodeErrPacket, type ErrFields } from '../../../protocols/mysql/server-results.js';
import { CapabilityFlag, Charset } from '../../../protocols/mysql/constants.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { Grant } from '../../access/grant.js';
import { SessionStatementRecorder } from '../../audit/statement-recorder.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { Lease } from '../../credentials/broker.js';
import { ServerPool } from '../../net/server-pool.js';
import { DurableReplyGate } from '../../session/durable-replies.js';
import { describeEndReason, Session, type SessionEndReason } from '../../session/session.js';
import { emitSafely, recordSessionEnd, recordSessionStart } from '../../session/session-end.js';
import type { MysqlEngineDeps } from './deps.js';
import { greetClient, mockVerifiers, OFFERED_CAPABILITIES, proveToken, type AcceptedClient, type ServerIdentity } from './handshake.js';
import { PeerClosed } from './packet-reader.js';
import { MysqlRelay } from './relay.js';
import { resetMysqlServer } from './server-reset.js';
import { commandRefusal } from './policy.js';
import { routeKill } from './kill-statement.js';
import { MysqlTap } from './tap.js';
import { AdvertisedThreads } from './thread-ids.js';
import { connectMysqlUpstream, killQuery, MysqlUpstreamError, probeGreeting, type MysqlUpstreamLogin, type MysqlUpstreamSession } from './upstream.js';

const LOGIN_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 3_000;
/** Used until (or when never) a MySQL resource answers the start probe. */
const DEFAULT_IDENTITY: ServerIdentity = {
  serverVersion: '8.0.36-jitgate', upstreamCapabilities: OFFERED_CAPABILITIES, upstreamMariadbCapabilities: 0, characterSet: Charset.utf8mb4_general_ci,
};

/**
 * Which parked server connections a login may take: same lease user, resource and the session shape the client
 * negotiated (capabilities, MariaDB extensions, character set; COM_RESET_CONNECTION restores the handshake's).
 * Connection attributes are informational and not part of it: a reused connection shows its first client's.
 */
function serverKeyOf(leaseId: string, resource: ResourceConfig, client: AcceptedClient): string {
  return JSON.stringify([leaseId, resource.name, resource.database, client.capabilities, client.mariadbCapabilities,
    client.response.characterSet, client.response.maxPacketSize]);
}

function clientHost(socket: Socket): string {
  return socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
}

/**
 * DESIGN §4 step 3: what the client is told when its session ends — as the answer to its pending command, or, idle,
 * as an unsolicited ERR (relay.ts `finish`).
 */
function errFor(reason: SessionEndReason, grant: string): ErrFields | undefined {
  switch (reason.kind) {
    case 'grant_expired': return mysqlError.grantExpired(grant);
    case 'grant_revoked':
    case 'ended_by_admin': return mysqlError.grantRevoked(grant);
    case 'shutdown': return mysqlError.connectionKilled('jitgate is shutting down');
    case 'audit_unavailable': return mysqlError.auditUnavailable();
    // The relay told the client when it found the violation (onViolation): one ERR, not two.
    case 'protocol_error': return undefined;
    case 'client_closed':
    case 'upstream_closed': return undefined;
  }
}

export class MysqlEngine {
  private identity: ServerIdentity = DEFAULT_IDENTITY;
  private readonly threads = new AdvertisedThreads();
  private readonly servers: ServerPool<MysqlUpstreamSession>;

  constructor(private readonly deps: MysqlEngineDeps) {
    this.servers = new ServerPool({ reset: resetMysqlServer, grantEnds: deps.sessions, shutdown: deps.shutdown });
  }

  /** Learns the upstream version and capabilities from the resources' greetings, so clients see the real server. */
  async probe(): Promise<void> {
    for (const resource of this.deps.mysqlResources) {
      try {
        const greeting = await probeGreeting(resource, AbortSignal.timeout(PROBE_TIMEOUT_MS));
        const previous = this.identity === DEFAULT_IDENTITY ? undefined : this.identity;
        this.identity = {
          serverVersion: previous?.serverVersion ?? greeting.serverVersion,
          upstreamCapabilities: ((previous?.upstreamCapabilities ?? 0xffffffff) & greeting.capabilities) >>> 0,
          upstreamMariadbCapabilities: ((previous?.upstreamMariadbCapabilities ?? 0xffffffff) & greeting.mariadbCapabilities) >>> 0,
          characterSet: previous?.characterSet ?? greeting.characterSet,
        };
      } catch (error) {
        this.deps.logger.warn({ resource: resource.name, err: error }, 'mysql resource did not answer the start probe');
      }
    }
  }

  async handleConnection(socket: Socket): Promise<void> {
    const host = clientHost(socket);
    const address = `${host}:${socket.remotePort ?? 0}`;
    const login = AbortSignal.any([AbortSignal.timeout(LOGIN_TIMEOUT_MS), this.deps.shutdown]);
    const connectionId = this.threads.mint();
    let client: AcceptedClient;
    try {
      client = await greetClient(socket, login, this.identity, this.deps.tls.context, connectionId);
    } catch (error) {
      const told = error instanceof WireFormatError ? errorForWireFormat(error) : undefined;
      if (told) socket.end(encodePacket(1, encodeErrPacket(told, CapabilityFlag.CLIENT_PROTOCOL_41)));
      else socket.destroy();
      this.authFailed(address, '', error instanceof PeerClosed ? 'client closed during handshake' : `handshake failed: ${error instanceof Error ? error.message : String(error)}`,
        String(told?.errno ?? ServerErrno.ER_HANDSHAKE_ERROR));
      return;
    }
    const user = client.response.username;
    const refuse = (fields: ErrFields, reason: string): void => {
      this.authFailed(address, user, reason, String(fields.errno));
      client.socket.end(encodePacket(client.reader.nextSequenceId, encodeErrPacket(fields, client.capabilities)));
    };
    if (this.deps.tls.require && !client.tls) return refuse(mysqlError.accessDenied(user, host, true), 'TLS required');

    // Step 3: the token, by verifier; unknown grants against a mock verifier (identical ERR either way).
    let proven: boolean;
    const grant = await this.deps.grants.lookup(user);
    try {
      proven = await proveToken(client, grant?.verifiers ?? mockVerifiers(user, this.deps.mockSecretKey));
    } catch {
      client.socket.destroy();
      this.authFailed(address, user, 'client closed during authentication', '1045');
      return;
    }
    if (!proven || !grant) return refuse(mysqlError.accessDenied(user, host, true), grant ? 'wrong token' : 'unknown grant');
    const decision = this.decide(grant, client, address, host);
    if ('refusal' in decision) return refuse(decision.refusal, decision.reason);
    client.reader.detach();
    // Returned, not awaited: this frame (greeting, reader, login signal) is not kept for the session's lifetime.
    return this.runSession(client, address, grant, decision.resource);
  }

  private decide(grant: Grant, client: AcceptedClient, address: string, host: string): { resource: ResourceConfig } | { refusal: ErrFields; reason: string } {
    const user = grant.id;
    const denied = (why: string): { refusal: ErrFields; reason: string } =>
      ({ refusal: { ...mysqlError.accessDenied(user, host, true), message: `Access denied for user '${user}'@'${host}': ${why}` }, reason: why });
    if (grant.state === 'pending') return denied(`grant ${grant.id} is pending approval`);
    if (grant.state === 'denied' || grant.state === 'ended') return denied(`grant ${grant.id} is ${grant.endReason ?? grant.state}`);
    if (grant.expiresAt.getTime() <= Date.now()) return denied(`grant ${grant.id} is expired`);
    const resource = this.deps.resources(grant.resource);
    if (!resource) return denied(`the resource of grant ${grant.id} is no longer configured`);
    if (resource.protocol !== 'mysql') return denied(`grant ${grant.id} is for ${resource.protocol} resource "${resource.name}"; use jitgate's Postgres port`);
    const database = client.response.database;
    if (database !== null && database !== '' && database !== resource.database) {
      return { refusal: mysqlError.dbAccessDenied(user, database, host), reason: 'wrong database' };
    }
    if (!this.deps.grants.allowsAddress(grant, address)) return denied(`grant ${grant.id} may not connect from ${host}`);
    return { resource };
  }

  private authFailed(address: string, user: string, reason: string, code: string): void {
    emitSafely(this.deps.audit, this.deps.logger, { type: 'session.auth_failed', protocol: 'mysql', client: address, user: user.slice(0, 64), reason, code });
  }

  private async runSession(client: AcceptedClient, address: string, grant: Grant, resource: ResourceConfig): Promise<void> {
    const { deps } = this;
    const program = client.response.connectAttributes?.get('program_name') ?? client.response.connectAttributes?.get('_client_name') ?? null;
    const session = new Session({ grant, protocol: 'mysql', clientAddress: address, tls: client.tls, program, shutdown: deps.shutdown });
    deps.sessions.add(session);
    const started = Date.now();
    recordSessionStart(deps, session, {
      id: session.id, grantId: grant.id, resource: resource.name, role: grant.role, user: grant.requester, protocol: 'mysql',
      clientAddress: address, clientProgram: program, tls: client.tls, startedAt: session.startedAt, endedAt: null, endReason: null,
      bytesIn: 0, bytesOut: 0, statements: 0,
    });
    emitSafely(deps.audit, deps.logger, { type: 'session.started', session: session.id, grant: grant.id, resource: resource.name, protocol: 'mysql',
      user: grant.requester, client: address, tls: client.tls, ...(program ? { program } : {}) });
    let replyGate: DurableReplyGate | undefined;
    const recorder = new SessionStatementRecorder({ audit: deps.audit, session: session.id, grant: grant.id, dialect: 'mysql',
      parameters: deps.parameters, maxSqlBytes: deps.maxAuditSqlBytes,
      ...(deps.holdRepliesForAudit === true ? { onRecorded: (written: Promise<void>) => replyGate?.recorded(written) } : {}) });

    let upstream: MysqlUpstreamSession;
    let login: MysqlUpstreamLogin;
    let serverKey: string | undefined;
    try {
      // Steps 4–5: the grant's shared lease, then the upstream login with the capabilities the client negotiated; a
      // user the database refuses (dropped behind jitgate's back) is re-issued once, a second refusal is the answer.
      let lease = await deps.leases.acquire(grant);
      await deps.grants.activate(grant);
      const loginAs = (current: Lease): MysqlUpstreamLogin => ({
        resource, user: current.username, password: current.password.reveal(), database: resource.database,
        capabilities: client.capabilities, mariadbCapabilities: client.mariadbCapabilities,
        characterSet: client.response.characterSet, maxPacketSize: client.response.maxPacketSize,
        connectAttributes: client.response.connectAttributes,
      });
      // A lease revoked when its last session leaves (teardown on_disconnect) keeps no server connections.
      const keyOf = (current: Lease): string | undefined => (resource.teardown.mode === 'on_disconnect' ? undefined : serverKeyOf(current.leaseId, resource, client));
      const connect = (current: Lease): Promise<MysqlUpstreamSession> => connectMysqlUpstream(loginAs(current), session.signal);
      serverKey = keyOf(lease);
      upstream = (serverKey === undefined ? undefined : this.servers.take(serverKey)) ?? await connect(lease).catch(async (error: unknown) => {
        if (!(error instanceof MysqlUpstreamError && error.rejectsLease)) throw error;
        lease = await deps.leases.reissue(grant, lease);
        return connect(lease);
      });
      // The lease the connection is logged in as: a re-issued one has its own password (and, from Vault, its own id).
      login = loginAs(lease);
      serverKey = keyOf(lease);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // The database's own refusal (its ERR) is passed on as it is; only a server that did not answer is 1040.
      const answer = error instanceof MysqlUpstreamError ? error.serverAnswer : undefined;
      const told = session.isEnded ? errFor(session.endReason ?? { kind: 'shutdown' }, grant.id) : answer ?? mysqlError.upstreamUnavailable(message);
      if (told) client.socket.end(encodePacket(client.reader.nextSequenceId, encodeErrPacket(told, client.capabilities)));
      else client.socket.destroy();
      session.end({ kind: 'upstream_closed', detail: message });
      await this.endSession(session, recorder.count, started);
      return;
    }

    // Step 6: the server's own auth OK, as the answer to the client's login.
    client.socket.write(encodePacket(client.reader.nextSequenceId, upstream.okPayload));

    // Step 7: relay until either side or the grant ends.
    const tap = new MysqlTap(recorder, client.capabilities, client.mariadbCapabilities, 4096);
    const threadId = upstream.greeting.connectionId;
    // From now until the session ends, a KILL of the greeting's id (from this grant's sessions) reaches this thread.
    this.threads.bind(client.connectionId, grant.id, threadId);
    // MySQL has no asynchronous messages to send at a boundary, so nothing waits for the gate's release.
    if (deps.holdRepliesForAudit === true) replyGate = new DurableReplyGate(client.socket, upstream.socket, () => {}, () => session.end({ kind: 'audit_unavailable' }));
    const relay = new MysqlRelay(client.socket, upstream.socket, session, tap, {
      ...(replyGate === undefined ? {} : { replyGate }),
      refusal: (command) => {
        const refused = commandRefusal(command, resource, grant.id, () => deps.audit.accepting());
        // A command the policy refuses is on record; one refused because the audit trail is failing cannot be.
        if (refused?.byPolicy === true) {
          emitSafely(deps.audit, deps.logger, { type: 'policy.blocked', session: session.id, grant: grant.id, reason: refused.fields.message, detail: command.type });
        }
        return refused?.fields;
      },
      onViolation: (detail, told) => {
        if (!client.socket.destroyed) client.socket.write(encodePacket(1, encodeErrPacket(told, client.capabilities)));
        session.end({ kind: 'protocol_error', detail });
      },
      killRoute: (command, payload, payloadLength) =>
        routeKill(command, payload, payloadLength, (advertisedId) => this.threads.serverThreadOf(advertisedId, grant.id)),
      cancelInFlight: () => { void killQuery(login, threadId).catch(() => {}); },
      // Only a client that left on its own: every other end (expiry, revocation, shutdown) closes the server too.
      keepUpstream: () => serverKey !== undefined && session.endReason?.kind === 'client_closed' && !deps.shutdown.aborted,
    }, { capabilities: client.capabilities, maxPayloadBytes: deps.maxPacketBytes, clientRetainBytes: deps.maxAuditSqlBytes + 64 });
    const expiry = setTimeout(() => session.end({ kind: 'grant_expired' }), Math.max(0, grant.expiresAt.getTime() - Date.now()) + 2_000);
    expiry.unref();
    session.signal.addEventListener('abort', () => {
      // At once: the server connection may be parked and go to another session while this one closes.
      this.threads.release(client.connectionId);
      const reason = session.endReason ?? { kind: 'shutdown' };
      if (reason.kind === 'client_closed' || reason.kind === 'upstream_closed') relay.shutdown();
      else relay.close(errFor(reason, grant.id));
    }, { once: true });
    relay.start();
    const park = serverKey === undefined ? undefined : (): void => { void this.servers.park(serverKey, grant.id, upstream); };
    // Returned, not awaited, as above: the login's locals (the lease's password, the client's handshake) go now.
    return this.untilSessionEnds(session, relay, tap, recorder, expiry, started, park, client.connectionId);
  }

  /** Step 8, once the relay is done: bookkeeping; the lease ends with the grant (DESIGN §4). */
  private async untilSessionEnds(session: Session, relay: MysqlRelay, tap: MysqlTap, recorder: SessionStatementRecorder,
    expiry: NodeJS.Timeout, started: number, park: (() => void) | undefined, connectionId: number): Promise<void> {
    await relay.done;
    this.threads.release(connectionId); // already, unless the session ended before its abort listener was in place
    // A server connection the relay handed back is reset and parked before the session's end is counted.
    if (relay.keptUpstream) park?.();
    clearTimeout(expiry);
    tap.abandon({ code: '1927', message: `session ended: ${describeEndReason(session.endReason ?? { kind: 'shutdown' })}` });
    await this.endSession(session, recorder.count, started);
  }

  private endSession(session: Session, statements: number, started: number): Promise<void> {
    return recordSessionEnd(this.deps, session, statements, started);
  }

}
