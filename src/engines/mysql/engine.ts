// The MySQL engine: steps 1–3 of a session, then the MySQL half of the rest (STYLE rule 9).
//   1 greet (HandshakeV10, TLS) → 2 read HandshakeResponse41 → 3 authenticate the grant → the session core
//   (src/session/run-session.ts): session start → 4 lease → 5 log in upstream → 6 the client's OK → 7 relay
//   (framing.ts) → 8 teardown.
import type { Socket } from 'node:net';
import { encodePacket } from '../../../protocols/mysql/packet-framer.js';
import { mysqlError, errorForWireFormat, ServerErrno } from '../../../protocols/mysql/server-errors.js';
import { encodeErrPacket, type ErrFields } from '../../../protocols/mysql/server-results.js';
import { CapabilityFlag, Charset } from '../../../protocols/mysql/constants.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import { decideAccess, describeRefusal, type AccessRefusal } from '../../access/access-decision.js';
import type { Grant } from '../../access/grant.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { Lease } from '../../credentials/broker.js';
import { AdvertisedIds } from '../../session/advertised-ids.js';
import { loginSignal, SessionCore, type ProtocolSession } from '../../session/run-session.js';
import { emitSafely } from '../../session/session-end.js';
import type { MysqlEngineDeps } from './deps.js';
import { errFor, MysqlFraming } from './framing.js';
import { greetClient, mockVerifiers, OFFERED_CAPABILITIES, proveToken, type AcceptedClient, type ServerIdentity } from './handshake.js';
import { routeKill } from './kill-statement.js';
import { PeerClosed } from './packet-reader.js';
import { commandRefusal } from './policy.js';
import { resetMysqlServer } from './server-reset.js';
import { MysqlTap } from './tap.js';
import { connectMysqlUpstream, killQuery, MysqlUpstreamError, probeGreeting, type MysqlUpstreamLogin, type MysqlUpstreamSession } from './upstream.js';

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

/** Why a grant may not connect now (src/access/access-decision.ts), in the words the ERR and the audit event carry. */
function refusalWords(refusal: AccessRefusal, grant: Grant, host: string): string {
  switch (refusal.kind) {
    case 'pending': return `grant ${grant.id} is pending approval`;
    case 'ended': return `grant ${grant.id} is ${refusal.why}`;
    case 'resource_missing': return `the resource of grant ${grant.id} is no longer configured`;
    case 'wrong_protocol': return `grant ${grant.id} is for ${refusal.protocol} resource "${refusal.resource}"; use jitgate's Postgres port`;
    case 'wrong_database': return describeRefusal(refusal);
    case 'source_address': return `grant ${grant.id} may not connect from ${host}`;
  }
}

/** The connect-time refusal as the ERR this protocol sends: 1044 for another database, 1045 naming the reason otherwise. */
function errForRefusal(refusal: AccessRefusal, grant: Grant, host: string): ErrFields {
  if (refusal.kind === 'wrong_database') return mysqlError.dbAccessDenied(grant.id, refusal.asked, host);
  return { ...mysqlError.accessDenied(grant.id, host, true), message: `Access denied for user '${grant.id}'@'${host}': ${refusalWords(refusal, grant, host)}` };
}

export class MysqlEngine {
  private identity: ServerIdentity = DEFAULT_IDENTITY;
  private readonly threads = new AdvertisedIds();
  private readonly core: SessionCore<MysqlUpstreamSession>;

  constructor(private readonly deps: MysqlEngineDeps) {
    this.core = new SessionCore(deps, { protocol: 'mysql', dialect: 'mysql', reset: resetMysqlServer });
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
    const login = loginSignal(this.deps.shutdown);
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
    const database = client.response.database;
    const decision = decideAccess(grant, this.deps.resources(grant.resource),
      { protocol: 'mysql', database: database === null || database === '' ? undefined : database, address },
      (proven, from) => this.deps.grants.allowsAddress(proven, from));
    if (!decision.ok) return refuse(errForRefusal(decision.refusal, grant, host), refusalWords(decision.refusal, grant, host));
    client.reader.detach();
    // Returned, not awaited: this frame (greeting, reader, login signal) is not kept for the session's lifetime.
    return this.core.run(this.protocolSession(client, address, grant, decision.resource));
  }

  private authFailed(address: string, user: string, reason: string, code: string): void {
    emitSafely(this.deps.audit, this.deps.logger, { type: 'session.auth_failed', protocol: 'mysql', client: address, user: user.slice(0, 64), reason, code });
  }

  /** Steps 4–8 as the session core runs them, with this client's MySQL specifics. */
  private protocolSession(client: AcceptedClient, address: string, grant: Grant, resource: ResourceConfig): ProtocolSession<MysqlUpstreamSession> {
    const { deps } = this;
    const attributes = client.response.connectAttributes;
    const loginAs = (lease: Lease): MysqlUpstreamLogin => ({
      resource, user: lease.username, password: lease.password.reveal(), database: resource.database,
      capabilities: client.capabilities, mariadbCapabilities: client.mariadbCapabilities,
      characterSet: client.response.characterSet, maxPacketSize: client.response.maxPacketSize, connectAttributes: attributes,
    });
    const err = (fields: ErrFields): Buffer => encodePacket(client.reader.nextSequenceId, encodeErrPacket(fields, client.capabilities));
    return {
      client: client.socket, leftover: Buffer.alloc(0), clientAddress: address, tls: client.tls,
      program: attributes?.get('program_name') ?? attributes?.get('_client_name') ?? null, grant, resource,
      serverKey: (lease) => serverKeyOf(lease.leaseId, resource, client),
      connect: (lease, signal) => connectMysqlUpstream(loginAs(lease), signal),
      loginFailure: (error, ended) => {
        if (ended !== undefined) {
          const told = errFor(ended, grant.id);
          return told === undefined ? undefined : err(told);
        }
        // The database's own refusal (its ERR) is passed on as it is; only a server that did not answer is 1040.
        const answer = error instanceof MysqlUpstreamError ? error.serverAnswer : undefined;
        return err(answer ?? mysqlError.upstreamUnavailable(error instanceof Error ? error.message : String(error)));
      },
      // Step 6: the server's own auth OK, as the answer to the client's login.
      introduce: (upstream) => encodePacket(client.reader.nextSequenceId, upstream.okPayload),
      framing: (upstream, session, recorder, lease) => {
        const threadId = upstream.greeting.connectionId;
        // From now until the session ends, a KILL of the greeting's id (from this grant's sessions) reaches this thread.
        this.threads.bind(client.connectionId, grant.id, threadId);
        const login = loginAs(lease);
        return new MysqlFraming(new MysqlTap(recorder, client.capabilities, client.mariadbCapabilities, 4096), {
          grant: grant.id, capabilities: client.capabilities, maxPayloadBytes: deps.maxPacketBytes,
          clientRetainBytes: deps.maxAuditSqlBytes + 64,
          refusal: (command) => {
            const refused = commandRefusal(command, resource, grant.id, () => deps.audit.accepting());
            // A command the policy refuses is on record; one refused because the audit trail is failing cannot be.
            if (refused?.byPolicy === true) {
              emitSafely(deps.audit, deps.logger, { type: 'policy.blocked', session: session.id, grant: grant.id, reason: refused.fields.message, detail: command.type });
            }
            return refused?.fields;
          },
          killRoute: (command, payload, payloadLength) =>
            routeKill(command, payload, payloadLength, (advertisedId) => this.threads.serverThreadOf(advertisedId, grant.id)),
          cancel: () => { void killQuery(login, threadId).catch(() => {}); },
          // At once: the server connection may be parked and go to another session while this one closes.
          ending: () => this.threads.release(client.connectionId),
        });
      },
    };
  }
}
