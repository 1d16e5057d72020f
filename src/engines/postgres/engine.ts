// The Postgres engine: steps 1–3 of a session, then the Postgres half of the rest (STYLE rule 9).
//   1 negotiateTls + 2 readStartup → 3 authenticateGrant → the session core (src/session/run-session.ts): session
//   start → 4 lease → 5 connectUpstream → 6 introduce (ParameterStatus, minted BackendKeyData, ReadyForQuery) → 7 relay
//   (framing.ts) → 8 teardown. Every refusal is a protocol error naming its reason; every outcome is an audit event.
import type { Socket } from 'node:net';
import { encodeAuthenticationOk } from '../../../protocols/postgres/backend-auth.js';
import { encodeErrorResponse, encodeErrorResponseV2, encodeNoticeResponse, type ErrorFields } from '../../../protocols/postgres/backend-error.js';
import { encodeBackendKeyData, encodeParameterStatus, encodeReadyForQuery } from '../../../protocols/postgres/backend-status.js';
import { fieldsForWireError, pgError, pgNotice, startupRefusal } from '../../../protocols/postgres/sqlstate.js';
import { StartupPacketError } from '../../../protocols/postgres/startup.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { Grant } from '../../access/grant.js';
import type { AuditEventInput } from '../../audit/events.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { Lease } from '../../credentials/broker.js';
import { loginSignal, SessionCore, type ProtocolSession } from '../../session/run-session.js';
import { emitSafely } from '../../session/session-end.js';
import { ClientClosed } from './client-reader.js';
import { authenticateGrant } from './authenticate.js';
import type { PostgresEngineDeps } from './deps.js';
import { fatalFor, PostgresFraming } from './framing.js';
import { resetPostgresServer } from './server-reset.js';
import { readStartup } from './startup-phase.js';
import { PostgresTap } from './tap.js';
import { connectUpstream, sendUpstreamCancel, UpstreamError, type UpstreamSession } from './upstream.js';

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
  private readonly core: SessionCore<UpstreamSession>;

  constructor(private readonly deps: PostgresEngineDeps) {
    this.core = new SessionCore(deps, { protocol: 'postgres', dialect: 'postgres', reset: resetPostgresServer });
  }

  async handleConnection(socket: Socket): Promise<void> {
    const address = clientAddress(socket);
    const login = loginSignal(this.deps.shutdown);
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
    return this.core.run(this.protocolSession(client, leftover, tls, parameters, address, auth.grant, auth.resource, auth.serverFinal));
  }

  /** Steps 4–8 as the session core runs them, with this client's Postgres specifics. */
  private protocolSession(client: Socket, leftover: Buffer, tls: boolean, parameters: Readonly<Record<string, string>>,
    address: string, grant: Grant, resource: ResourceConfig, serverFinal: Buffer): ProtocolSession<UpstreamSession> {
    const { deps } = this;
    const passThrough: Record<string, string> = {};
    for (const [name, value] of Object.entries(parameters)) if (!RESERVED_PARAMETERS.has(name)) passThrough[name] = value;
    return {
      client, leftover, clientAddress: address, tls, program: parameters.application_name ?? null, grant, resource,
      serverKey: (lease: Lease) => serverKeyOf(lease.leaseId, resource, passThrough),
      connect: (lease: Lease, signal: AbortSignal) => connectUpstream(
        { resource, user: lease.username, password: lease.password.reveal(), database: resource.database, parameters: passThrough }, signal),
      loginFailure: (error, ended) => {
        if (ended !== undefined) {
          const told = fatalFor(ended, grant.id);
          return told === undefined ? undefined : Buffer.concat([serverFinal, told]);
        }
        // The database's own refusal of the lease user is passed on as it is; only a server that did not answer is 08006.
        const answer = error instanceof UpstreamError ? error.serverAnswer : undefined;
        const message = error instanceof Error ? error.message : String(error);
        const words = error instanceof UpstreamError ? message : `cannot obtain database credentials: ${message}`;
        return Buffer.concat([serverFinal, fatal(answer ?? pgError.upstreamUnavailable(words))]);
      },
      introduce: (upstream, session) => introduction(serverFinal, upstream.parameterStatus,
        deps.sessions.mintCancelKey(session, { host: resource.host, port: resource.port, processId: upstream.processId, secretKey: upstream.secretKey })),
      framing: (upstream, _session, recorder) => new PostgresFraming(new PostgresTap(recorder), {
        grant: grant.id, maxMessageBytes: deps.maxMessageBytes, auditAccepting: () => deps.audit.accepting(),
        cancel: () => { void sendUpstreamCancel(resource.host, resource.port, upstream.processId, upstream.secretKey); },
      }),
      expiryWarning: (secondsLeft) => encodeNoticeResponse(pgNotice.expiryWarning(grant.id, secondsLeft)),
    };
  }

  /**
   * Queues an audit event. emit() rejects only once the audit log is closed (a failing sink makes it wait, never
   * reject), which only an event racing jitgate's own shutdown can meet: that loss is logged loudly, never unhandled.
   */
  private emit(event: AuditEventInput): void {
    emitSafely(this.deps.audit, this.deps.logger, event);
  }
}
