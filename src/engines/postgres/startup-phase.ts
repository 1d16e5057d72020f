// Steps 1 and 2: TLS negotiation and the startup packet. SSLRequest → 'S' (TLS) or 'N'; GSSENCRequest → 'N';
// CancelRequest → forwarded to the matching upstream and the connection closed; StartupMessage → the session starts.
// Anything else is `refused`, and the engine answers it as the server would (sqlstate.ts `startupRefusal`).
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { encodeNegotiateProtocolVersion } from '../../../protocols/postgres/backend-status.js';
import { StartupCode } from '../../../protocols/postgres/codes.js';
import { decodeStartupPacket, type StartupPacketError, startupErrors } from '../../../protocols/postgres/startup.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { SessionRegistry } from '../../session/registry.js';
import { ClientReader } from './client-reader.js';
import { sendUpstreamCancel } from './upstream.js';

const SSL_ACCEPT = Buffer.from('S');
const SSL_REFUSE = Buffer.from('N');
/** jitgate speaks protocol 3.0 to both sides: the newest minor version it offers a client. */
const NEWEST_MINOR_VERSION = 0;
/** Startup parameters with this prefix are protocol extensions (§55.2.1), which 3.0 has none of. */
const PROTOCOL_OPTION_PREFIX = '_pq_.';

export type StartupOutcome =
  | { readonly type: 'startup'; readonly socket: Socket; readonly reader: ClientReader; readonly tls: boolean;
      readonly parameters: Readonly<Record<string, string>>; readonly minorVersion: number }
  | { readonly type: 'cancelled' }
  /** Not a startup the server would accept; `socket` is the one to answer on (the TLS socket once encrypted). */
  | { readonly type: 'refused'; readonly socket: Socket; readonly error: WireFormatError };

function upgradeToTls(socket: Socket, context: SecureContext): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
    secure.once('secure', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

/**
 * A second SSLRequest (or GSSENCRequest) is not a negotiation the server offers again: it reads the code as a protocol
 * version, 1234.5679 (1234.5680), and refuses that as it refuses any unsupported version.
 */
const renegotiation = (code: number): StartupPacketError => startupErrors.unsupportedProtocolVersion(code >>> 16, code & 0xffff);

export async function readStartup(socket: Socket, signal: AbortSignal, tlsContext: SecureContext | undefined,
  sessions: SessionRegistry): Promise<StartupOutcome> {
  let current = socket;
  let tls = false;
  // As the server tracks them (ProcessStartupPacket's ssl_done / gss_done): a negotiation answered, accepted or not,
  // is not offered again, and one that set up encryption ends both.
  let sslDone = false;
  let gssDone = false;
  let reader = new ClientReader(current, signal);
  const refused = (error: unknown): StartupOutcome => {
    if (error instanceof WireFormatError) return { type: 'refused', socket: current, error };
    throw error;
  };
  for (;;) {
    let packet;
    try {
      packet = decodeStartupPacket((await reader.readStartupPacket()).subarray(4));
    } catch (error) {
      return refused(error);
    }
    switch (packet.type) {
      case 'ssl_request': {
        if (sslDone) return refused(renegotiation(StartupCode.SSLRequest));
        sslDone = true;
        if (!tlsContext) {
          current.write(SSL_REFUSE);
          continue;
        }
        // Bytes sent after SSLRequest but before the handshake would be read as if encrypted (CVE-2021-23214).
        if (reader.hasBufferedBytes) return refused(new WireFormatError('received unencrypted data after SSL request'));
        reader.detach();
        current.write(SSL_ACCEPT);
        current = await upgradeToTls(current, tlsContext);
        tls = true;
        gssDone = true;
        reader = new ClientReader(current, signal);
        continue;
      }
      case 'gssenc_request':
        if (gssDone) return refused(renegotiation(StartupCode.GSSENCRequest));
        gssDone = true;
        current.write(SSL_REFUSE);
        continue;
      case 'cancel_request': {
        // Unknown keys are ignored, as PostgreSQL does; a known one cancels on the real backend.
        const target = sessions.lookupCancel(packet.processId, packet.secretKey);
        if (target) await sendUpstreamCancel(target.host, target.port, target.processId, target.secretKey);
        current.end();
        return { type: 'cancelled' };
      }
      case 'startup': {
        const { parameters, answer } = negotiateProtocolVersion(packet.minorVersion, packet.parameters);
        if (answer) current.write(answer);
        return { type: 'startup', socket: current, reader, tls, parameters, minorVersion: packet.minorVersion };
      }
    }
  }
}

/**
 * A client asking for 3.x (x > 0) or sending `_pq_.` options gets NegotiateProtocolVersion, as the server answers
 * it: "3.0, and these options are unknown"; the session goes on in 3.0 and the options are dropped (never passed
 * upstream, where they would make the lease login fail).
 */
export function negotiateProtocolVersion(minorVersion: number, parameters: Readonly<Record<string, string>>):
  { readonly parameters: Readonly<Record<string, string>>; readonly answer: Buffer | undefined } {
  const options = Object.keys(parameters).filter((name) => name.startsWith(PROTOCOL_OPTION_PREFIX));
  if (minorVersion <= NEWEST_MINOR_VERSION && options.length === 0) return { parameters, answer: undefined };
  const kept = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(parameters)) if (!name.startsWith(PROTOCOL_OPTION_PREFIX)) kept[name] = value;
  return { parameters: kept, answer: encodeNegotiateProtocolVersion(NEWEST_MINOR_VERSION, options) };
}
