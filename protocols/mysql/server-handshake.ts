// HandshakeV10, the server's greeting (dev.mysql.com "Protocol::HandshakeV10", mariadb.com/kb "Connection"):
//   1 protocol version (10) · NUL server version · 4 connection id · 8 scramble part 1 · 1 filler (0)
//   2 capabilities (lower) · 1 charset · 2 status · 2 capabilities (upper) · 1 auth plugin data length
//   6 reserved · 4 MariaDB extended capabilities (when CLIENT_MYSQL is clear; else 4 more reserved)
//   max(13, length − 8) scramble part 2 (12 bytes + NUL for a 20-byte scramble) · NUL auth plugin name
// jitgate encodes it on the client leg (its own scramble) and decodes the database's on the upstream leg.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { CapabilityFlag, CLIENT_MYSQL, hasFlag, SCRAMBLE_LENGTH } from './constants.js';
import { copyBytes, utf8Text } from './lenenc.js';
import { decodeErrPacket, ERR_HEADER, type ErrPacket } from './server-results.js';

const PROTOCOL_VERSION = 10;
const SCRAMBLE_PART1 = 8;
const RESERVED_BYTES = 6;

export interface HandshakeV10 {
  readonly type: 'handshake_v10';
  readonly serverVersion: string;
  readonly connectionId: number;
  /** The nonce for auth (20 bytes for MySQL/MariaDB), copied out of the packet; the trailing NUL is not included. */
  readonly scramble: Buffer;
  readonly capabilities: number;
  /** MariaDB extended capabilities; 0 when CLIENT_MYSQL is set (a MySQL server). */
  readonly mariadbCapabilities: number;
  readonly characterSet: number;
  readonly statusFlags: number;
  /** '' when the server does not send one (no CLIENT_PLUGIN_AUTH): mysql_native_password is then implied. */
  readonly authPluginName: string;
}

/**
 * The scramble alphabet: bytes 0x01..0x7f except 0x24 ('$'), MySQL's own `generate_user_salt` rule. NUL is out
 * because part 2 is NUL-terminated and some clients read it as a C string; bytes ≥ 0x80 are out because drivers that
 * hold the scramble as text in a single-byte or UTF-8 charset would mangle them; '$' is out because MySQL reserves it
 * as the field separator of stored caching_sha2 salts, and matching MySQL exactly means no client can be surprised.
 * (MariaDB's own scrambles use 0x21..0x7e, a subset apart from '$'.)
 */
export function isScrambleByte(byte: number): boolean {
  return byte >= 0x01 && byte <= 0x7f && byte !== 0x24;
}

/**
 * Maps caller-supplied random bytes (e.g. `randomBytes(20)`) onto the alphabet as MySQL does: keep 7 bits, bump
 * 0x00 and 0x24 by one. Two of 128 values are slightly likelier; the scramble keeps ~139 bits of entropy.
 */
export function scrambleFromRandomBytes(random: Uint8Array): Buffer {
  if (random.length < SCRAMBLE_LENGTH) throw new RangeError(`need ${SCRAMBLE_LENGTH} random bytes, got ${random.length}`);
  const scramble = Buffer.alloc(SCRAMBLE_LENGTH);
  for (let i = 0; i < SCRAMBLE_LENGTH; i++) {
    const byte = (random[i] as number) & 0x7f;
    scramble[i] = byte === 0x00 || byte === 0x24 ? byte + 1 : byte;
  }
  return scramble;
}

export interface HandshakeV10Fields {
  /** MariaDB clients recognise a MariaDB server by a "5.5.5-" prefix (e.g. "5.5.5-10.11.6-MariaDB-jitgate"). */
  readonly serverVersion: string;
  readonly connectionId: number;
  /** Exactly 20 bytes from the alphabet above (see `scrambleFromRandomBytes`). */
  readonly scramble: Uint8Array;
  readonly capabilities: number;
  /** Sent only when CLIENT_MYSQL is clear in `capabilities`; must be 0 otherwise. */
  readonly mariadbCapabilities?: number;
  readonly characterSet: number;
  readonly statusFlags: number;
  /** Required with CLIENT_PLUGIN_AUTH. */
  readonly authPluginName: string;
}

export function encodeHandshakeV10(fields: HandshakeV10Fields): Buffer {
  const { scramble, capabilities } = fields;
  if (scramble.length !== SCRAMBLE_LENGTH) throw new RangeError(`scramble must be ${SCRAMBLE_LENGTH} bytes, got ${scramble.length}`);
  const bad = scramble.findIndex((byte) => !isScrambleByte(byte));
  if (bad >= 0) throw new RangeError(`scramble byte ${bad} (0x${(scramble[bad] as number).toString(16)}) is outside 0x01..0x7f minus '$'`);
  if (fields.serverVersion.includes('\0')) throw new RangeError('server version must not contain NUL');
  const mariadb = fields.mariadbCapabilities ?? 0;
  if (mariadb !== 0 && hasFlag(capabilities, CLIENT_MYSQL)) throw new RangeError('MariaDB capabilities need CLIENT_MYSQL (bit 0) clear');
  const pluginAuth = hasFlag(capabilities, CapabilityFlag.CLIENT_PLUGIN_AUTH);
  const secure = hasFlag(capabilities, CapabilityFlag.CLIENT_SECURE_CONNECTION);
  if (pluginAuth && fields.authPluginName === '') throw new RangeError('CLIENT_PLUGIN_AUTH needs an auth plugin name');

  const versionBytes = Buffer.byteLength(fields.serverVersion, 'utf8');
  const pluginBytes = Buffer.byteLength(fields.authPluginName, 'utf8');
  const size = 1 // protocol version
    + versionBytes + 1 // server version + NUL
    + 4 // connection id
    + SCRAMBLE_PART1 + 1 // scramble part 1 + filler
    + 2 + 1 + 2 + 2 // capabilities lower, charset, status, capabilities upper
    + 1 // auth plugin data length
    + RESERVED_BYTES + 4 // reserved (the last 4 carry MariaDB capabilities)
    + (secure ? SCRAMBLE_LENGTH - SCRAMBLE_PART1 + 1 : 0) // scramble part 2 + NUL
    + (pluginAuth ? pluginBytes + 1 : 0); // plugin name + NUL

  const writer = new ByteWriter(size)
    .writeUint8(PROTOCOL_VERSION)
    .writeCString(fields.serverVersion)
    .writeUint32LE(fields.connectionId)
    .writeBytes(scramble.subarray(0, SCRAMBLE_PART1))
    .writeUint8(0)
    .writeUint16LE(capabilities & 0xffff)
    .writeUint8(fields.characterSet)
    .writeUint16LE(fields.statusFlags)
    .writeUint16LE((capabilities >>> 16) & 0xffff)
    .writeUint8(pluginAuth ? SCRAMBLE_LENGTH + 1 : 0)
    .writeBytes(Buffer.alloc(RESERVED_BYTES))
    .writeUint32LE(hasFlag(capabilities, CLIENT_MYSQL) ? 0 : mariadb);
  if (secure) writer.writeBytes(scramble.subarray(SCRAMBLE_PART1)).writeUint8(0);
  if (pluginAuth) writer.writeCString(fields.authPluginName);
  if (writer.size !== size) throw new Error(`HandshakeV10 encoder wrote ${writer.size} bytes, computed ${size}`);
  return writer.toBuffer();
}

/** The first packet from a server: HandshakeV10, or an ERR when it refuses the connection outright. */
export function decodeServerGreeting(payload: Uint8Array): HandshakeV10 | ErrPacket {
  // An ERR this early predates capability negotiation: it carries no SQLSTATE marker.
  if (payload[0] === ERR_HEADER) return decodeErrPacket(payload, 0);
  return decodeHandshakeV10(payload);
}

export function decodeHandshakeV10(payload: Uint8Array): HandshakeV10 {
  const reader = new ByteReader(payload);
  const version = reader.readUint8('HandshakeV10 protocol_version');
  if (version !== PROTOCOL_VERSION) throw new WireFormatError(`HandshakeV10: protocol version ${version}, expected 10`);
  const serverVersion = reader.readCString('HandshakeV10 server_version');
  const connectionId = reader.readUint32LE('HandshakeV10 connection_id');
  const part1 = reader.readBytes(SCRAMBLE_PART1, 'HandshakeV10 auth_plugin_data_part_1');
  reader.skip(1, 'HandshakeV10 filler');
  const lower = reader.readUint16LE('HandshakeV10 capability_flags_1');
  if (!hasFlag(lower, CapabilityFlag.CLIENT_PROTOCOL_41)) throw new WireFormatError('HandshakeV10: server lacks CLIENT_PROTOCOL_41');
  const characterSet = reader.readUint8('HandshakeV10 character_set');
  const statusFlags = reader.readUint16LE('HandshakeV10 status_flags');
  const upper = reader.readUint16LE('HandshakeV10 capability_flags_2');
  const capabilities = (lower | (upper << 16)) >>> 0;
  const authDataLength = reader.readUint8('HandshakeV10 auth_plugin_data_len');
  reader.skip(RESERVED_BYTES, 'HandshakeV10 reserved');
  const extended = reader.readUint32LE('HandshakeV10 reserved / MariaDB capabilities');
  const mariadbCapabilities = hasFlag(capabilities, CLIENT_MYSQL) ? 0 : extended;
  let scramble: Buffer = copyBytes(part1);
  if (hasFlag(capabilities, CapabilityFlag.CLIENT_SECURE_CONNECTION)) {
    const part2Length = Math.max(13, authDataLength - SCRAMBLE_PART1);
    const part2 = reader.readBytes(part2Length, 'HandshakeV10 auth_plugin_data_part_2');
    // Part 2 ends with a NUL that is not part of the nonce.
    const nonce = part2[part2.length - 1] === 0 ? part2.subarray(0, part2.length - 1) : part2;
    scramble = Buffer.concat([part1, nonce]);
  }
  let authPluginName = '';
  if (hasFlag(capabilities, CapabilityFlag.CLIENT_PLUGIN_AUTH)) {
    // MySQL 5.5.7–5.5.9 omitted the terminating NUL (Vitess tolerates it too): the name then runs to the end.
    const rest = reader.readRest();
    const nul = rest.indexOf(0);
    if (nul >= 0 && nul !== rest.length - 1) throw new WireFormatError(`HandshakeV10: ${rest.length - nul - 1} bytes after auth_plugin_name`);
    authPluginName = utf8Text(rest.subarray(0, nul >= 0 ? nul : rest.length));
  }
  reader.expectEnd('HandshakeV10');
  return {
    type: 'handshake_v10', serverVersion, connectionId, scramble, capabilities, mariadbCapabilities,
    characterSet, statusFlags, authPluginName,
  };
}
