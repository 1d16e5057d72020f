// The client's answer to HandshakeV10 (client → server; dev.mysql.com "Protocol::HandshakeResponse41", "SSLRequest";
// mariadb.com/kb "Connection"):
//   4 capabilities · 4 max packet size · 1 charset · 19 filler · 4 MariaDB extended capabilities (CLIENT_MYSQL clear;
//   else 4 more filler) — 32 bytes: with CLIENT_SSL set and nothing more, that is the SSLRequest, then TLS starts —
//   NUL username · auth response (lenenc with PLUGIN_AUTH_LENENC_CLIENT_DATA; 1-byte length with SECURE_CONNECTION;
//   else NUL-terminated) · NUL database (CONNECT_WITH_DB) · NUL plugin name (PLUGIN_AUTH) ·
//   lenenc-framed key/value lenenc pairs (CONNECT_ATTRS) · 1 zstd level (ZSTD_COMPRESSION_ALGORITHM)
// A field its flag announces but the packet ends before is read as absent: MySQL's server does the same, and some
// connectors set CONNECT_WITH_DB without sending a database. Anything after the last field is an error.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { CapabilityFlag, CLIENT_MYSQL, hasFlag } from './constants.js';
import { copyBytes, readLenencBytes, readLenencInt, utf8Text, writeLenencBytes, writeLenencInt, writeLenencString } from './lenenc.js';

const FIXED_PREFIX_BYTES = 32;
const FILLER_BYTES = 19;

export interface SslRequest {
  readonly type: 'ssl_request';
  readonly capabilities: number;
  readonly mariadbCapabilities: number;
  readonly maxPacketSize: number;
  readonly characterSet: number;
}

export interface HandshakeResponse41 {
  readonly type: 'handshake_response_41';
  readonly capabilities: number;
  /** The client's MariaDB extended capabilities; 0 when it set CLIENT_MYSQL. Negotiate by AND with the server's. */
  readonly mariadbCapabilities: number;
  readonly maxPacketSize: number;
  readonly characterSet: number;
  readonly username: string;
  /** The plugin's reply to the scramble (copied; empty for an empty password). */
  readonly authResponse: Buffer;
  readonly database: string | null;
  readonly authPluginName: string | null;
  /** `_client_name`, `program_name`, …; null when the client sent none. Later duplicates win. */
  readonly connectAttributes: ReadonlyMap<string, string> | null;
  readonly zstdCompressionLevel: number | null;
}

export type ClientHandshakeMessage = SslRequest | HandshakeResponse41;

/** Decodes the client's first reply: an SSLRequest (exactly 32 bytes with CLIENT_SSL) or a HandshakeResponse41. */
export function decodeClientHandshake(payload: Uint8Array): ClientHandshakeMessage {
  const reader = new ByteReader(payload);
  const capabilities = reader.readUint32LE('HandshakeResponse41 client_flag');
  if (!hasFlag(capabilities, CapabilityFlag.CLIENT_PROTOCOL_41)) {
    throw new WireFormatError('HandshakeResponse: client lacks CLIENT_PROTOCOL_41 (HandshakeResponse320 is not supported)');
  }
  const maxPacketSize = reader.readUint32LE('HandshakeResponse41 max_packet_size');
  const characterSet = reader.readUint8('HandshakeResponse41 character_set');
  reader.skip(FILLER_BYTES, 'HandshakeResponse41 filler');
  const extended = reader.readUint32LE('HandshakeResponse41 filler / MariaDB capabilities');
  const mariadbCapabilities = hasFlag(capabilities, CLIENT_MYSQL) ? 0 : extended;
  if (payload.length === FIXED_PREFIX_BYTES) {
    if (!hasFlag(capabilities, CapabilityFlag.CLIENT_SSL)) throw new WireFormatError('HandshakeResponse41: no username');
    return { type: 'ssl_request', capabilities, mariadbCapabilities, maxPacketSize, characterSet };
  }
  const username = reader.readCString('HandshakeResponse41 username');
  let authResponse: Uint8Array;
  if (hasFlag(capabilities, CapabilityFlag.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)) {
    authResponse = readLenencBytes(reader, 'HandshakeResponse41 auth_response');
  } else if (hasFlag(capabilities, CapabilityFlag.CLIENT_SECURE_CONNECTION)) {
    authResponse = reader.readBytes(reader.readUint8('HandshakeResponse41 auth_response_length'), 'HandshakeResponse41 auth_response');
  } else {
    authResponse = reader.readCStringBytes('HandshakeResponse41 auth_response');
  }
  const database = hasFlag(capabilities, CapabilityFlag.CLIENT_CONNECT_WITH_DB) && reader.remaining > 0
    ? reader.readCString('HandshakeResponse41 database') : null;
  const authPluginName = hasFlag(capabilities, CapabilityFlag.CLIENT_PLUGIN_AUTH) && reader.remaining > 0
    ? reader.readCString('HandshakeResponse41 client_plugin_name') : null;
  let connectAttributes: Map<string, string> | null = null;
  if (hasFlag(capabilities, CapabilityFlag.CLIENT_CONNECT_ATTRS) && reader.remaining > 0) {
    const block = new ByteReader(reader.readBytes(readLenencInt(reader, 'connect attrs length'), 'connect attrs'));
    connectAttributes = new Map();
    while (block.remaining > 0) {
      const key = utf8Text(readLenencBytes(block, 'connect attr key'));
      connectAttributes.set(key, utf8Text(readLenencBytes(block, 'connect attr value')));
    }
  }
  const zstdCompressionLevel = hasFlag(capabilities, CapabilityFlag.CLIENT_ZSTD_COMPRESSION_ALGORITHM) && reader.remaining > 0
    ? reader.readUint8('HandshakeResponse41 zstd_compression_level') : null;
  reader.expectEnd('HandshakeResponse41');
  return {
    type: 'handshake_response_41', capabilities, mariadbCapabilities, maxPacketSize, characterSet, username,
    authResponse: copyBytes(authResponse), database, authPluginName, connectAttributes, zstdCompressionLevel,
  };
}

export interface HandshakeResponseFields {
  readonly capabilities: number;
  /** Written into the last 4 filler bytes only when CLIENT_MYSQL is clear. */
  readonly mariadbCapabilities?: number;
  readonly maxPacketSize: number;
  readonly characterSet: number;
}

function writeFixedPrefix(writer: ByteWriter, fields: HandshakeResponseFields): void {
  const mariadb = fields.mariadbCapabilities ?? 0;
  if (mariadb !== 0 && hasFlag(fields.capabilities, CLIENT_MYSQL)) throw new RangeError('MariaDB capabilities need CLIENT_MYSQL (bit 0) clear');
  writer.writeUint32LE(fields.capabilities).writeUint32LE(fields.maxPacketSize).writeUint8(fields.characterSet)
    .writeBytes(Buffer.alloc(FILLER_BYTES)).writeUint32LE(hasFlag(fields.capabilities, CLIENT_MYSQL) ? 0 : mariadb);
}

/** The 32-byte SSLRequest; CLIENT_SSL is added to the capabilities. */
export function encodeSslRequest(fields: HandshakeResponseFields): Buffer {
  const writer = new ByteWriter(FIXED_PREFIX_BYTES);
  writeFixedPrefix(writer, { ...fields, capabilities: (fields.capabilities | CapabilityFlag.CLIENT_SSL) >>> 0 });
  return writer.toBuffer();
}

export interface HandshakeResponse41Fields extends HandshakeResponseFields {
  readonly username: string;
  readonly authResponse: Uint8Array;
  /** Written when CLIENT_CONNECT_WITH_DB is set ('' if absent). */
  readonly database?: string;
  /** Written when CLIENT_PLUGIN_AUTH is set. */
  readonly authPluginName?: string;
  /** Written when CLIENT_CONNECT_ATTRS is set. */
  readonly connectAttributes?: ReadonlyMap<string, string>;
}

/** HandshakeResponse41 as the upstream leg sends it; each optional field is written iff its capability is set. */
export function encodeHandshakeResponse41(fields: HandshakeResponse41Fields): Buffer {
  const caps = fields.capabilities;
  if (!hasFlag(caps, CapabilityFlag.CLIENT_PROTOCOL_41)) throw new RangeError('HandshakeResponse41 needs CLIENT_PROTOCOL_41');
  if (fields.username.includes('\0')) throw new RangeError('username must not contain NUL');
  const writer = new ByteWriter(128);
  writeFixedPrefix(writer, fields);
  writer.writeCString(fields.username);
  if (hasFlag(caps, CapabilityFlag.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)) {
    writeLenencBytes(writer, fields.authResponse);
  } else if (hasFlag(caps, CapabilityFlag.CLIENT_SECURE_CONNECTION)) {
    if (fields.authResponse.length > 0xff) throw new RangeError('auth response over 255 bytes needs PLUGIN_AUTH_LENENC_CLIENT_DATA');
    writer.writeUint8(fields.authResponse.length).writeBytes(fields.authResponse);
  } else {
    if (fields.authResponse.includes(0)) throw new RangeError('a NUL-terminated auth response cannot contain NUL');
    writer.writeBytes(fields.authResponse).writeUint8(0);
  }
  if (hasFlag(caps, CapabilityFlag.CLIENT_CONNECT_WITH_DB)) writer.writeCString(fields.database ?? '');
  if (hasFlag(caps, CapabilityFlag.CLIENT_PLUGIN_AUTH)) writer.writeCString(fields.authPluginName ?? '');
  if (hasFlag(caps, CapabilityFlag.CLIENT_CONNECT_ATTRS)) {
    const block = new ByteWriter(128);
    for (const [key, value] of fields.connectAttributes ?? []) {
      writeLenencString(block, key);
      writeLenencString(block, value);
    }
    writeLenencInt(writer, block.size).writeBytes(block.toBuffer());
  }
  return writer.toBuffer();
}
