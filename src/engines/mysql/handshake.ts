// Steps 1–3 of a MySQL session as the server: HandshakeV10 with jitgate's own scramble, the optional TLS upgrade,
// HandshakeResponse41, and the client's proof of the grant token by verifier — mysql_native_password or
// caching_sha2_password fast auth, with an AuthSwitchRequest when the client did not answer the greeting's plugin
// (see authStart). Unknown grants are checked against a mock verifier so both failures take the same path.
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { encodeFastAuthSuccess } from '../../../protocols/mysql/auth-more-data.js';
import { verifyCachingSha2Fast, verifyNativePassword } from '../../../protocols/mysql/auth-plugins.js';
import { encodeAuthSwitchRequestWithScramble } from '../../../protocols/mysql/auth-switch.js';
import { decodeClientHandshake, type HandshakeResponse41 } from '../../../protocols/mysql/client-handshake-response.js';
import { AuthPlugin, CapabilityFlag, CLIENT_MYSQL, hasFlag, MariadbCapabilityFlag } from '../../../protocols/mysql/constants.js';
import { encodeHandshakeV10, scrambleFromRandomBytes } from '../../../protocols/mysql/server-handshake.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { TokenVerifiers } from '../../access/grant.js';
import { PacketReader } from './packet-reader.js';

/** What jitgate offers; CLIENT_LOCAL_FILES and compression are never offered (DESIGN §3). */
export const OFFERED_CAPABILITIES = (CapabilityFlag.CLIENT_LONG_PASSWORD | CapabilityFlag.CLIENT_FOUND_ROWS | CapabilityFlag.CLIENT_LONG_FLAG
  | CapabilityFlag.CLIENT_CONNECT_WITH_DB | CapabilityFlag.CLIENT_ODBC | CapabilityFlag.CLIENT_IGNORE_SPACE
  | CapabilityFlag.CLIENT_PROTOCOL_41 | CapabilityFlag.CLIENT_INTERACTIVE | CapabilityFlag.CLIENT_IGNORE_SIGPIPE
  | CapabilityFlag.CLIENT_TRANSACTIONS | CapabilityFlag.CLIENT_SECURE_CONNECTION | CapabilityFlag.CLIENT_MULTI_STATEMENTS
  | CapabilityFlag.CLIENT_MULTI_RESULTS | CapabilityFlag.CLIENT_PS_MULTI_RESULTS | CapabilityFlag.CLIENT_PLUGIN_AUTH
  | CapabilityFlag.CLIENT_CONNECT_ATTRS | CapabilityFlag.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CapabilityFlag.CLIENT_SESSION_TRACK
  | CapabilityFlag.CLIENT_DEPRECATE_EOF) >>> 0;

/** MariaDB extensions jitgate passes through: extended column metadata (JSON and other type names reach mysql2). */
export const OFFERED_MARIADB_CAPABILITIES = MariadbCapabilityFlag.MARIADB_CLIENT_EXTENDED_METADATA;

/** caching_sha2 first, as MySQL 8 does: clients that have it answer with it; the others are switched (authStart). */
export const GREETING_AUTH_PLUGIN = AuthPlugin.caching_sha2_password;

export interface ServerIdentity {
  /** The upstream server's own version string: clients (mysql2) decide MariaDB behaviour from it. */
  readonly serverVersion: string;
  /** What the upstream servers support; jitgate offers only the intersection with its own set. */
  readonly upstreamCapabilities: number;
  /** MariaDB extended capabilities of the upstream servers (0 for MySQL). */
  readonly upstreamMariadbCapabilities: number;
  readonly characterSet: number;
}

export interface AcceptedClient {
  readonly socket: Socket;
  readonly reader: PacketReader;
  readonly tls: boolean;
  readonly response: HandshakeResponse41;
  /** Command-phase capabilities both sides now assume. */
  readonly capabilities: number;
  /** Negotiated MariaDB extended capabilities (0 when either side is not MariaDB). */
  readonly mariadbCapabilities: number;
  readonly scramble: Buffer;
  /** The connection id the greeting advertised (jitgate's own, see src/session/advertised-ids.ts). */
  readonly connectionId: number;
}

function upgrade(socket: Socket, context: SecureContext): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
    secure.once('secure', () => resolve(secure));
    secure.once('error', reject);
  });
}

export async function greetClient(socket: Socket, signal: AbortSignal, identity: ServerIdentity, tlsContext: SecureContext | undefined,
  connectionId: number): Promise<AcceptedClient> {
  const scramble = scrambleFromRandomBytes(randomBytes(20));
  const mariadbOffered = (OFFERED_MARIADB_CAPABILITIES & identity.upstreamMariadbCapabilities) >>> 0;
  let offered = (OFFERED_CAPABILITIES & (identity.upstreamCapabilities | CLIENT_MYSQL)) >>> 0;
  // MariaDB's convention: a clear bit 0 (CLIENT_MYSQL) announces the extended capability word.
  if (mariadbOffered !== 0) offered = (offered & ~CLIENT_MYSQL) >>> 0;
  if (tlsContext) offered = (offered | CapabilityFlag.CLIENT_SSL) >>> 0;
  let current = socket;
  const reader = new PacketReader(current, signal, 'client');
  reader.write(encodeHandshakeV10({
    serverVersion: identity.serverVersion, connectionId, scramble, capabilities: offered, mariadbCapabilities: mariadbOffered,
    characterSet: identity.characterSet,
    statusFlags: 0x0002, authPluginName: GREETING_AUTH_PLUGIN,
  }));
  let message = decodeClientHandshake((await reader.read()).payload);
  let tls = false;
  if (message.type === 'ssl_request') {
    if (!tlsContext) throw new WireFormatError('client asked for TLS, which this listener does not offer');
    reader.detach();
    current = await upgrade(current, tlsContext);
    reader.rebind(current);
    tls = true;
    message = decodeClientHandshake((await reader.read()).payload);
    if (message.type === 'ssl_request') throw new WireFormatError('second SSLRequest');
  }
  if (hasFlag(message.capabilities, CapabilityFlag.CLIENT_COMPRESS)) throw new WireFormatError('compression is not supported');
  const mariadbCapabilities = (message.mariadbCapabilities & mariadbOffered) >>> 0;
  const capabilities = ((message.capabilities & offered) & ~CapabilityFlag.CLIENT_SSL) >>> 0;
  return { socket: current, reader, tls, response: message, capabilities, mariadbCapabilities, scramble, connectionId };
}

/** The verifiers of a grant that does not exist: derived from the name, so the check costs the same. */
export function mockVerifiers(user: string, secret: Uint8Array): Pick<TokenVerifiers, 'sha1Double' | 'sha256Double'> {
  const digest = (algorithm: string): string => createHash(algorithm).update(secret).update(user).digest('hex');
  return { sha1Double: digest('sha1'), sha256Double: digest('sha256') };
}

/** The plugins jitgate verifies itself: a grant holds a verifier for each. */
export type ServedAuthPlugin = typeof AuthPlugin.mysql_native_password | typeof AuthPlugin.caching_sha2_password;

const isServed = (plugin: string): plugin is ServedAuthPlugin =>
  plugin === AuthPlugin.mysql_native_password || plugin === AuthPlugin.caching_sha2_password;

/** Verify the HandshakeResponse41's auth response as is, or AuthSwitchRequest the client and verify its reply. */
export type AuthStart =
  | { readonly type: 'verify'; readonly plugin: ServedAuthPlugin }
  | { readonly type: 'switch'; readonly plugin: ServedAuthPlugin };

/**
 * What to do with the client's first auth response, decided as MariaDB and MySQL 8 do (sql_acl.cc /
 * sql_authentication.cc, parse_client_handshake_packet → send_plugin_request_packet): the response answers the
 * greeting's scramble for the greeting's plugin only when the client names that plugin. A client set up for another
 * plugin (libmariadb with --default-auth) sends an empty response naming its own plugin and waits for an
 * AuthSwitchRequest; mysql2 restricted to another plugin sends that plugin's answer. Either way it is switched — to its
 * own plugin when jitgate serves it, else to mysql_native_password — and the reply is verified with the plugin switched
 * to. An empty response to the greeting's plugin is switched too: a client may hold its answer back for the switch, and
 * one with no password answers empty again and fails.
 * A client without CLIENT_PLUGIN_AUTH (no plugin name) cannot be switched: its response is a native one.
 */
export function authStart(greetingPlugin: ServedAuthPlugin, clientPlugin: string | null, responseLength: number): AuthStart {
  if (clientPlugin === null) return { type: 'verify', plugin: AuthPlugin.mysql_native_password };
  if (clientPlugin === greetingPlugin && responseLength > 0) return { type: 'verify', plugin: greetingPlugin };
  return { type: 'switch', plugin: isServed(clientPlugin) ? clientPlugin : AuthPlugin.mysql_native_password };
}

/**
 * Checks the client's auth response against the verifiers, after an AuthSwitchRequest when authStart asks for one (the
 * greeting's scramble again, as servers reuse it). Returns whether the token was proven (the caller answers OK or ERR).
 */
export async function proveToken(client: AcceptedClient, verifiers: Pick<TokenVerifiers, 'sha1Double' | 'sha256Double'>): Promise<boolean> {
  const start = authStart(GREETING_AUTH_PLUGIN, client.response.authPluginName, client.response.authResponse.length);
  let reply: Uint8Array = client.response.authResponse;
  if (start.type === 'switch') {
    client.reader.write(encodeAuthSwitchRequestWithScramble(start.plugin, client.scramble));
    reply = (await client.reader.read()).payload;
  }
  if (start.plugin === AuthPlugin.mysql_native_password) return verifyNativePassword(reply, client.scramble, verifiers.sha1Double);
  const ok = verifyCachingSha2Fast(reply, client.scramble, verifiers.sha256Double);
  // Fast auth always succeeds or fails outright: jitgate holds the verifier, so full authentication is never needed.
  if (ok) client.reader.write(encodeFastAuthSuccess());
  return ok;
}
