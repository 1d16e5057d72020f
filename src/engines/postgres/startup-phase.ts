// Steps 1 and 2: TLS negotiation and the startup packet. SSLRequest → 'S' (TLS) or 'N'; GSSENCRequest → 'N';
// CancelRequest → forwarded to the matching upstream and the connection closed; StartupMessage → the session starts.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { decodeStartupPacket } from '../../../protocols/postgres/startup.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { SessionRegistry } from '../../session/registry.js';
import { ClientReader } from './client-reader.js';
import { sendUpstreamCancel } from './upstream.js';

const SSL_ACCEPT = Buffer.from('S');
const SSL_REFUSE = Buffer.from('N');
/** A client may try SSLRequest then GSSENCRequest (libpq's gssencmode=prefer) before the startup packet. */
const MAX_NEGOTIATION_PACKETS = 3;

export type StartupOutcome =
  | { readonly type: 'startup'; readonly socket: Socket; readonly reader: ClientReader; readonly tls: boolean;
      readonly parameters: Readonly<Record<string, string>>; readonly minorVersion: number }
  | { readonly type: 'cancelled' };

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

export async function readStartup(socket: Socket, signal: AbortSignal, tlsContext: SecureContext | undefined,
  sessions: SessionRegistry): Promise<StartupOutcome> {
  let current = socket;
  let tls = false;
  let reader = new ClientReader(current, signal);
  for (let attempt = 0; attempt < MAX_NEGOTIATION_PACKETS; attempt++) {
    const packet = decodeStartupPacket((await reader.readStartupPacket()).subarray(4));
    switch (packet.type) {
      case 'ssl_request': {
        if (tls) throw new WireFormatError('SSLRequest on a connection that is already encrypted');
        if (!tlsContext) {
          current.write(SSL_REFUSE);
          continue;
        }
        // Bytes sent after SSLRequest but before the handshake would be read as if encrypted (CVE-2021-23214).
        if (reader.hasBufferedBytes) throw new WireFormatError('received unencrypted data after SSL request');
        reader.detach();
        current.write(SSL_ACCEPT);
        current = await upgradeToTls(current, tlsContext);
        tls = true;
        reader = new ClientReader(current, signal);
        continue;
      }
      case 'gssenc_request':
        current.write(SSL_REFUSE);
        continue;
      case 'cancel_request': {
        // Unknown keys are ignored, as PostgreSQL does; a known one cancels on the real backend.
        const target = sessions.lookupCancel(packet.processId, packet.secretKey);
        if (target) await sendUpstreamCancel(target.host, target.port, target.processId, target.secretKey);
        current.end();
        return { type: 'cancelled' };
      }
      case 'startup':
        return { type: 'startup', socket: current, reader, tls, parameters: packet.parameters, minorVersion: packet.minorVersion };
    }
  }
  throw new WireFormatError('too many negotiation requests before the startup packet');
}
