// The untyped packets a client sends before the first typed message (protocol docs §55.2.1 and §55.7:
// StartupMessage, SSLRequest, GSSENCRequest, CancelRequest): int32 length (counting itself), int32 code, body.
// The scanner decides from the first four bytes whether to wait, so a lying length costs four bytes, not 10000.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { pgLimits, StartupCode } from './codes.js';

export type StartupPacket =
  | { readonly type: 'ssl_request' }
  | { readonly type: 'gssenc_request' }
  | { readonly type: 'cancel_request'; readonly processId: number; readonly secretKey: number }
  | {
      readonly type: 'startup';
      /** The raw int32 (196608 for 3.0). */
      readonly protocolVersion: number;
      readonly majorVersion: 3;
      /** 0 today; a newer client may ask for 3.2, and the engine answers NegotiateProtocolVersion as the server does. */
      readonly minorVersion: number;
      /** Null-prototype object: a parameter named `__proto__` is just a key. Always has a non-empty `user`. */
      readonly parameters: Readonly<Record<string, string>>;
    };

/**
 * Why a startup packet was refused, in the server's own cases (backend_startup.c ProcessStartupPacket; postmaster.c
 * before PostgreSQL 17). `startupRefusal` (sqlstate.ts) says what the client hears for each.
 */
export type StartupErrorReason =
  /** Declared length outside 8..10004, or a CancelRequest that is not 16 bytes. */
  | 'invalid_length'
  /** The peer closed in the middle of the packet. */
  | 'incomplete'
  /** The parameter list is not name/value pairs ending in one NUL at the packet's last byte. */
  | 'invalid_layout'
  /** jitgate's own refusal (the server lets the last one win; an auth proxy must not read two users). */
  | 'duplicate_parameter'
  | 'unsupported_protocol_version'
  | 'missing_user';

/** A WireFormatError that also says why, so the engine can answer as the server does in each case. */
export class StartupPacketError extends WireFormatError {
  /**
   * @param message what the client is told, in the server's words where it tells anything
   * @param detail jitgate's account of what exactly was wrong, for the audit event (the server sends no more than
   *   `message` either)
   */
  constructor(readonly reason: StartupErrorReason, message: string, readonly detail?: string, readonly majorVersion?: number) {
    super(message);
    this.name = 'StartupPacketError';
  }
}

/** The server's one message for every layout fault. */
const LAYOUT_MESSAGE = 'invalid startup packet layout: expected terminator as last byte';

/** `X` 00 00 00 04 read as a length: node-postgres sends Terminate first when a connection is ended while connecting. */
const TERMINATE_AS_LENGTH = 0x58000000;

export const startupErrors = {
  invalidLength: (length: number, what = 'startup packet'): StartupPacketError =>
    new StartupPacketError('invalid_length', `invalid length of ${what}: ${length}`,
      length === TERMINATE_AS_LENGTH ? 'a Terminate message where the startup packet belongs (the client gave up before starting up)' : undefined),
  incomplete: (received: number): StartupPacketError =>
    new StartupPacketError('incomplete', 'incomplete startup packet', `the client closed after ${received} bytes`),
  invalidLayout: (detail: string): StartupPacketError => new StartupPacketError('invalid_layout', LAYOUT_MESSAGE, detail),
  duplicateParameter: (name: string): StartupPacketError =>
    new StartupPacketError('duplicate_parameter', `startup packet: parameter "${name}" given twice`),
  /** Wording follows the server's ("unsupported frontend protocol 2.0: server supports 3.0 to 3.0"). */
  unsupportedProtocolVersion: (major: number, minor: number): StartupPacketError =>
    new StartupPacketError('unsupported_protocol_version', `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`,
      undefined, major),
  missingUser: (): StartupPacketError =>
    new StartupPacketError('missing_user', 'no PostgreSQL user name specified in startup packet'),
} as const;

export type StartupScan =
  /** Wait for at least `bytesNeeded` more bytes. */
  | { readonly type: 'need_more'; readonly bytesNeeded: number }
  /** `length` bytes from the offset form the packet (length field included). */
  | { readonly type: 'complete'; readonly length: number }
  /** The declared length is outside 8..10004: refuse without reading further. */
  | { readonly type: 'invalid'; readonly length: number; readonly message: string };

/** Looks at the bytes buffered so far; decides from the length field alone, before the rest has arrived. */
export function scanStartupPacket(buffer: Uint8Array, offset = 0): StartupScan {
  const available = buffer.length - offset;
  if (available < 4) return { type: 'need_more', bytesNeeded: 4 - Math.max(available, 0) };
  const length = new ByteReader(buffer, offset).readInt32BE('startup length');
  if (length < pgLimits.startupMinBytes || length > pgLimits.startupMaxBytes) {
    return { type: 'invalid', length, message: `invalid length of startup packet: ${length}` };
  }
  if (available < length) return { type: 'need_more', bytesNeeded: length - available };
  return { type: 'complete', length };
}

/**
 * Decodes the bytes after the length field (`packet.subarray(4, length)`). Every failure is a StartupPacketError,
 * whose `reason` decides the answer (sqlstate.ts `startupRefusal`).
 */
export function decodeStartupPacket(body: Uint8Array): StartupPacket {
  if (body.length + 4 < pgLimits.startupMinBytes || body.length + 4 > pgLimits.startupMaxBytes) {
    throw startupErrors.invalidLength(body.length + 4);
  }
  const reader = new ByteReader(body);
  const code = reader.readInt32BE('protocol version');
  switch (code) {
    // The server reads the code and nothing more of SSLRequest and GSSENCRequest: extra bytes are ignored.
    case StartupCode.SSLRequest:
      return { type: 'ssl_request' };
    case StartupCode.GSSENCRequest:
      return { type: 'gssenc_request' };
    case StartupCode.CancelRequest: {
      // Protocol 3.0 keys are exactly 4 bytes; we only ever hand out 3.0 keys, so any other size is not ours.
      if (reader.remaining !== 8) throw startupErrors.invalidLength(reader.remaining + 8, 'CancelRequest');
      const processId = reader.readInt32BE('CancelRequest process id');
      const secretKey = reader.readInt32BE('CancelRequest secret key');
      return { type: 'cancel_request', processId, secretKey };
    }
    default:
      return decodeStartupMessage(code, reader);
  }
}

function decodeStartupMessage(code: number, reader: ByteReader): StartupPacket {
  const majorVersion = code >>> 16;
  const minorVersion = code & 0xffff;
  if (majorVersion !== 3) throw startupErrors.unsupportedProtocolVersion(majorVersion, minorVersion);
  const parameters = Object.create(null) as Record<string, string>;
  for (;;) {
    const name = readParameterString(reader, 'parameter list has no terminating NUL');
    if (name === '') break;
    if (reader.remaining === 0) throw startupErrors.invalidLayout(`parameter "${name}" has no value (odd parameter list)`);
    const value = readParameterString(reader, `parameter "${name}" has no terminating NUL`);
    // The server lets the last one win; an auth proxy must not let two parts of itself read different users.
    if (Object.hasOwn(parameters, name)) throw startupErrors.duplicateParameter(name);
    parameters[name] = value;
  }
  if (reader.remaining !== 0) throw startupErrors.invalidLayout(`${reader.remaining} bytes after the parameter list`);
  const user = parameters['user'];
  if (user === undefined || user === '') throw startupErrors.missingUser();
  return { type: 'startup', protocolVersion: code, majorVersion: 3, minorVersion, parameters };
}

/** A NUL-terminated name or value; the packet ending first is a layout fault, as for the server. */
function readParameterString(reader: ByteReader, missing: string): string {
  if (reader.remaining === 0) throw startupErrors.invalidLayout(missing);
  try {
    return reader.readCString('startup parameter');
  } catch (error) {
    if (error instanceof WireFormatError) throw startupErrors.invalidLayout(missing);
    throw error;
  }
}

const assertNoNul = (text: string, field: string): string => {
  if (text.includes('\0')) throw new WireFormatError(`${field}: contains NUL`);
  return text;
};

/** StartupMessage for protocol 3.0 toward the upstream (the proxy writes its own: lease user, database, options). */
export function encodeStartupMessage(parameters: Readonly<Record<string, string>>): Buffer {
  const writer = new ByteWriter(128).writeInt32BE(0).writeInt32BE(StartupCode.ProtocolVersion3);
  for (const [name, value] of Object.entries(parameters)) {
    if (name === '') throw new WireFormatError('startup parameter name: empty');
    writer.writeCString(assertNoNul(name, 'startup parameter name')).writeCString(assertNoNul(value, `startup parameter "${name}"`));
  }
  writer.writeUint8(0).patchInt32BE(0, writer.size);
  if (writer.size > pgLimits.startupMaxBytes) throw new WireFormatError(`startup packet: ${writer.size} bytes is over the limit`);
  return writer.toBuffer();
}

/** SSLRequest toward the upstream: 8 bytes, answered by one unframed byte 'S' or 'N'. */
export function encodeSSLRequest(): Buffer {
  return new ByteWriter(8).writeInt32BE(8).writeInt32BE(StartupCode.SSLRequest).toBuffer();
}

/** CancelRequest toward the upstream with the key the upstream gave us (never the one we minted for the client). */
export function encodeCancelRequest(processId: number, secretKey: number): Buffer {
  return new ByteWriter(16).writeInt32BE(16).writeInt32BE(StartupCode.CancelRequest)
    .writeInt32BE(processId | 0).writeInt32BE(secretKey | 0).toBuffer();
}
