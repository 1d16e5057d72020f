// Step 5 of a MySQL session: log in to the real database as the lease user, as a client would — HandshakeV10,
// optional TLS, HandshakeResponse41, then whatever the server's auth plugin asks for (AuthSwitchRequest, caching_sha2
// fast auth, full auth over TLS or with the server's RSA key). After the OK the socket goes to the relay.
import type { Socket } from 'node:net';
import { connectTcp as connectNet } from '../../net/connect.js';
import { connect as tlsConnect } from 'node:tls';
import { decodeCachingSha2ServerSignal, encodeCleartextPassword, encodeRequestPublicKey } from '../../../protocols/mysql/auth-more-data.js';
import { cachingSha2Scramble, encryptPasswordWithPublicKey, nativePasswordScramble } from '../../../protocols/mysql/auth-plugins.js';
import { scrambleFromPluginData } from '../../../protocols/mysql/auth-switch.js';
import { encodeHandshakeResponse41, encodeSslRequest } from '../../../protocols/mysql/client-handshake-response.js';
import { AuthPlugin, CapabilityFlag, CLIENT_MYSQL, Command, hasFlag } from '../../../protocols/mysql/constants.js';
import { decodeServerAuthReply } from '../../../protocols/mysql/server-auth-reply.js';
import { ServerErrno } from '../../../protocols/mysql/server-errors.js';
import { decodeServerGreeting, type HandshakeV10 } from '../../../protocols/mysql/server-handshake.js';
import type { ErrFields, ErrPacket } from '../../../protocols/mysql/server-results.js';
import type { ResourceConfig } from '../../config/schema.js';
import { upstreamTlsOptional, upstreamTlsOptions } from '../../net/tls.js';
import { UpstreamFailure } from '../../session/upstream-failure.js';
import { PacketReader } from './packet-reader.js';


/**
 * The upstream login failed. `serverAnswer` is set when the database itself refused with an ERR packet: the client
 * is told exactly that errno, SQLSTATE and message, since it is the server's answer about the lease user (1044 "Access
 * denied … to database"). Without it the failure was no answer at all (refused, timed out, TLS): 1040-style
 * "upstream unavailable".
 */
export class MysqlUpstreamError extends UpstreamFailure {
  constructor(message: string, readonly errno?: number, readonly serverAnswer?: ErrFields) {
    super(message);
    this.name = 'MysqlUpstreamError';
  }

  /** The database does not take the lease user's password (or has no such account): re-issuing may help. */
  override get rejectsLease(): boolean {
    return this.serverAnswer?.errno === ServerErrno.ER_ACCESS_DENIED_ERROR;
  }
}

/** The server's ERR as the client's, with anything resembling the lease password taken out (the server never echoes it). */
export function refusedBy(packet: ErrPacket, what: string, password: string): MysqlUpstreamError {
  const message = password === '' ? packet.message : packet.message.split(password).join('[redacted]');
  // HY000 is the server's own SQLSTATE for errors that have no other (pre-4.1 ERR packets carry none).
  return new MysqlUpstreamError(`${what}: ${message}`, packet.errno, { errno: packet.errno, sqlState: packet.sqlState ?? 'HY000', message });
}

export interface MysqlUpstreamLogin {
  readonly resource: ResourceConfig;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Command-phase capabilities the client negotiated with jitgate: the upstream session must have the same. */
  readonly capabilities: number;
  /** MariaDB extended capabilities the client negotiated (requires CLIENT_MYSQL clear upstream too). */
  readonly mariadbCapabilities: number;
  readonly characterSet: number;
  readonly maxPacketSize: number;
  readonly connectAttributes: ReadonlyMap<string, string> | null;
}

export interface MysqlUpstreamSession {
  readonly socket: Socket;
  readonly tls: boolean;
  readonly greeting: HandshakeV10;
  /** The database the session was opened in (and is reset to before reuse). */
  readonly database: string;
  /** The capabilities sent upstream (what the server and jitgate now both assume). */
  readonly capabilities: number;
  /** The server's final auth OK payload, relayed to the client as its own. */
  readonly okPayload: Buffer;
}

/** Capabilities that only shape the handshake packets; everything else must match on both legs. */
const HANDSHAKE_CAPABILITIES = CapabilityFlag.CLIENT_PROTOCOL_41 | CapabilityFlag.CLIENT_SECURE_CONNECTION
  | CapabilityFlag.CLIENT_PLUGIN_AUTH | CapabilityFlag.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CapabilityFlag.CLIENT_CONNECT_WITH_DB
  | CapabilityFlag.CLIENT_CONNECT_ATTRS | CapabilityFlag.CLIENT_LONG_PASSWORD;

function connectTcp(host: string, port: number, signal: AbortSignal, plainTcp = false): Promise<Socket> {
  return connectNet(host, port, signal, { reuseReadBuffer: plainTcp }).catch((error: unknown) => {
    throw new MysqlUpstreamError(error instanceof Error ? error.message : String(error));
  });
}

/** Reads the server greeting only (no login): the engine learns the server's version and capabilities at start. */
export async function probeGreeting(resource: ResourceConfig, signal: AbortSignal): Promise<HandshakeV10> {
  const socket = await connectTcp(resource.host, resource.port, signal);
  try {
    const reader = new PacketReader(socket, signal, 'upstream');
    const greeting = decodeServerGreeting((await reader.read()).payload);
    if (greeting.type === 'err') throw new MysqlUpstreamError(`server refused the connection: ${greeting.message}`, greeting.errno);
    return greeting;
  } finally {
    socket.destroy();
  }
}

function firstAuthResponse(plugin: string, password: string, scramble: Uint8Array): { plugin: string; data: Buffer } {
  if (plugin === AuthPlugin.caching_sha2_password) return { plugin, data: cachingSha2Scramble(password, scramble) };
  // Unknown plugins: answer as native; the server switches us to what the account really uses.
  return { plugin: AuthPlugin.mysql_native_password, data: nativePasswordScramble(password, scramble) };
}

export async function connectMysqlUpstream(login: MysqlUpstreamLogin, signal: AbortSignal): Promise<MysqlUpstreamSession> {
  const { resource } = login;
  // A connection that may carry TLS keeps Node's own reads; a plain one reads into a reused buffer (net/connect.ts).
  let socket = await connectTcp(resource.host, resource.port, signal, upstreamTlsOptions(resource) === undefined);
  const abort = (): void => { socket.destroy(); };
  signal.addEventListener('abort', abort, { once: true });
  try {
    const reader = new PacketReader(socket, signal, 'upstream');
    const greetingPacket = await reader.read();
    const greeting = decodeServerGreeting(greetingPacket.payload);
    if (greeting.type === 'err') throw refusedBy(greeting, 'database refused the connection', login.password);
    reader.nextSequenceId = (greetingPacket.sequenceId + 1) & 0xff;

    const wanted = ((login.capabilities & ~HANDSHAKE_CAPABILITIES & ~CapabilityFlag.CLIENT_SSL & ~CapabilityFlag.CLIENT_LOCAL_FILES & ~CapabilityFlag.CLIENT_COMPRESS)
      | (HANDSHAKE_CAPABILITIES & greeting.capabilities & ~CLIENT_MYSQL) | CapabilityFlag.CLIENT_PROTOCOL_41
      | (login.mariadbCapabilities === 0 ? CLIENT_MYSQL : 0)) >>> 0;
    if ((login.mariadbCapabilities & ~greeting.mariadbCapabilities) !== 0) {
      throw new MysqlUpstreamError('the database lacks MariaDB extensions the client negotiated');
    }
    const missing = (wanted & ~greeting.capabilities & ~HANDSHAKE_CAPABILITIES) >>> 0;
    if (missing !== 0) throw new MysqlUpstreamError(`the database lacks capabilities the client negotiated (0x${missing.toString(16)})`);

    const tlsOptions = upstreamTlsOptions(resource);
    let tls = false;
    let capabilities = wanted;
    if (tlsOptions) {
      if (hasFlag(greeting.capabilities, CapabilityFlag.CLIENT_SSL)) {
        capabilities = (capabilities | CapabilityFlag.CLIENT_SSL) >>> 0;
        reader.write(encodeSslRequest({ capabilities, mariadbCapabilities: login.mariadbCapabilities, maxPacketSize: login.maxPacketSize, characterSet: login.characterSet }));
        reader.detach();
        socket = await new Promise<Socket>((resolve, reject) => {
          const secure = tlsConnect({ ...tlsOptions, socket });
          secure.once('secureConnect', () => resolve(secure));
          secure.once('error', (error) => reject(new MysqlUpstreamError(`TLS to ${resource.name} failed: ${error.message}`)));
        });
        reader.rebind(socket);
        tls = true;
      } else if (!upstreamTlsOptional(resource.tls.mode)) {
        throw new MysqlUpstreamError(`resource ${resource.name} requires TLS (tls.mode ${resource.tls.mode}) but the server does not offer it`);
      }
    }

    let scramble: Uint8Array = greeting.scramble;
    let plugin = greeting.authPluginName === '' ? AuthPlugin.mysql_native_password : greeting.authPluginName;
    const first = firstAuthResponse(plugin, login.password, scramble);
    plugin = first.plugin;
    reader.write(encodeHandshakeResponse41({
      capabilities, mariadbCapabilities: login.mariadbCapabilities, maxPacketSize: login.maxPacketSize, characterSet: login.characterSet, username: login.user,
      authResponse: first.data, database: login.database, authPluginName: plugin,
      ...(login.connectAttributes ? { connectAttributes: login.connectAttributes } : {}),
    }));

    for (let round = 0; round < 8; round++) {
      const packet = await reader.read();
      const reply = decodeServerAuthReply(packet.payload, capabilities);
      switch (reply.type) {
        case 'ok':
          if (reader.hasBufferedPackets) throw new MysqlUpstreamError('the database sent data before the first command');
          reader.detach();
          return { socket, tls, greeting, database: login.database, capabilities, okPayload: packet.payload };
        case 'err':
          throw refusedBy(reply, 'database refused the lease user', login.password);
        case 'auth_switch_request': {
          scramble = scrambleFromPluginData(reply.pluginData);
          plugin = reply.pluginName;
          if (plugin === AuthPlugin.mysql_native_password) reader.write(nativePasswordScramble(login.password, scramble));
          else if (plugin === AuthPlugin.caching_sha2_password) reader.write(cachingSha2Scramble(login.password, scramble));
          else if (plugin === AuthPlugin.mysql_clear_password && tls) reader.write(encodeCleartextPassword(login.password));
          else throw new MysqlUpstreamError(`the database asked for auth plugin ${plugin}, which jitgate does not speak`);
          break;
        }
        case 'auth_more_data': {
          const signalFromServer = decodeCachingSha2ServerSignal(reply.data);
          if (signalFromServer.type === 'fast_auth_success') break;
          if (signalFromServer.type === 'perform_full_authentication') {
            reader.write(tls ? encodeCleartextPassword(login.password) : encodeRequestPublicKey());
            break;
          }
          reader.write(encryptPasswordWithPublicKey(login.password, scramble, signalFromServer.pem));
          break;
        }
      }
    }
    throw new MysqlUpstreamError('the database kept the login going for too many rounds');
  } catch (error) {
    socket.destroy();
    throw error instanceof MysqlUpstreamError ? error : new MysqlUpstreamError(error instanceof Error ? error.message : String(error));
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/** Teardown step 2: `KILL QUERY <thread>` on a second connection as the same lease user (its own thread). */
export async function killQuery(login: MysqlUpstreamLogin, threadId: number): Promise<void> {
  const signal = AbortSignal.timeout(5_000);
  const session = await connectMysqlUpstream({ ...login, capabilities: CapabilityFlag.CLIENT_PROTOCOL_41, mariadbCapabilities: 0, connectAttributes: null }, signal);
  try {
    const reader = new PacketReader(session.socket, signal, 'upstream');
    reader.write(Buffer.concat([Buffer.from([Command.COM_QUERY]), Buffer.from(`KILL QUERY ${threadId}`)]));
    await reader.read();
  } finally {
    session.socket.destroy();
  }
}
