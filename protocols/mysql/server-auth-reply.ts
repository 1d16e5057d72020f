// What the server may send after HandshakeResponse41 or after an auth-plugin round trip (server → client, read by the
// upstream leg): OK (authenticated), ERR (refused), AuthSwitchRequest (use another plugin), AuthMoreData (the plugin
// continues). One decoder dispatching on the first byte, so the upstream step is a switch over this union.
import { WireFormatError } from '../shared/wire-format-error.js';
import { AUTH_MORE_DATA_HEADER, decodeAuthMoreData, type AuthMoreData } from './auth-more-data.js';
import { AUTH_SWITCH_REQUEST_HEADER, decodeAuthSwitchRequest, type AuthSwitchRequest } from './auth-switch.js';
import { decodeErrPacket, decodeOkPacket, ERR_HEADER, OK_HEADER, type ErrPacket, type OkPacket } from './server-results.js';

export type ServerAuthReply = OkPacket | ErrPacket | AuthSwitchRequest | AuthMoreData;

export function decodeServerAuthReply(payload: Uint8Array, capabilities: number): ServerAuthReply {
  switch (payload[0]) {
    case OK_HEADER: return decodeOkPacket(payload, capabilities);
    case ERR_HEADER: return decodeErrPacket(payload, capabilities);
    case AUTH_SWITCH_REQUEST_HEADER: return decodeAuthSwitchRequest(payload);
    case AUTH_MORE_DATA_HEADER: return decodeAuthMoreData(payload);
    case undefined: throw new WireFormatError('auth reply: empty packet');
    default: throw new WireFormatError(`auth reply: unexpected header 0x${payload[0].toString(16)}`);
  }
}
