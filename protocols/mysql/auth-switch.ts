// AuthSwitchRequest (server → client; dev.mysql.com "Protocol::AuthSwitchRequest"): 0xfe, NUL plugin name, then the
// plugin's data to the end — for mysql_native_password and caching_sha2_password a fresh 20-byte scramble followed
// by a NUL, as MySQL and MariaDB send it. The client answers with a bare packet holding the plugin's reply
// (AuthSwitchResponse: the payload is the reply, nothing to decode). The pre-4.1 OldAuthSwitchRequest (a lone 0xfe)
// is refused: no supported server or client needs it.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { SCRAMBLE_LENGTH } from './constants.js';
import { copyBytes } from './lenenc.js';

export const AUTH_SWITCH_REQUEST_HEADER = 0xfe;

export interface AuthSwitchRequest {
  readonly type: 'auth_switch_request';
  readonly pluginName: string;
  /** The plugin data as sent (copied), including the scramble's trailing NUL; see `scrambleFromPluginData`. */
  readonly pluginData: Buffer;
}

export function decodeAuthSwitchRequest(payload: Uint8Array): AuthSwitchRequest {
  const reader = new ByteReader(payload);
  const header = reader.readUint8('AuthSwitchRequest status');
  if (header !== AUTH_SWITCH_REQUEST_HEADER) throw new WireFormatError(`AuthSwitchRequest: header 0x${header.toString(16)}`);
  if (reader.remaining === 0) throw new WireFormatError('OldAuthSwitchRequest (pre-4.1 password hashing) is not supported');
  const pluginName = reader.readCString('AuthSwitchRequest plugin_name');
  return { type: 'auth_switch_request', pluginName, pluginData: copyBytes(reader.readRest()) };
}

/** Raw form: the plugin data is written as given. */
export function encodeAuthSwitchRequest(pluginName: string, pluginData: Uint8Array): Buffer {
  if (pluginName === '' || pluginName.includes('\0')) throw new RangeError(`invalid auth plugin name: ${JSON.stringify(pluginName)}`);
  return new ByteWriter(2 + pluginName.length + pluginData.length)
    .writeUint8(AUTH_SWITCH_REQUEST_HEADER).writeCString(pluginName).writeBytes(pluginData).toBuffer();
}

/** The form servers use for the two scramble plugins: the 20-byte scramble plus a NUL. */
export function encodeAuthSwitchRequestWithScramble(pluginName: string, scramble: Uint8Array): Buffer {
  if (scramble.length !== SCRAMBLE_LENGTH) throw new RangeError(`scramble must be ${SCRAMBLE_LENGTH} bytes`);
  const data = Buffer.alloc(SCRAMBLE_LENGTH + 1);
  data.set(scramble);
  return encodeAuthSwitchRequest(pluginName, data);
}

/** The scramble inside plugin data: the trailing NUL servers append is not part of it. */
export function scrambleFromPluginData(pluginData: Uint8Array): Buffer {
  const end = pluginData.length > 0 && pluginData[pluginData.length - 1] === 0 ? pluginData.length - 1 : pluginData.length;
  return copyBytes(pluginData.subarray(0, end));
}
