import { describe, expect, it } from 'vitest';
import { encodeErrorResponseV2 } from '../../protocols/postgres/backend-error.js';
import { decodeStartupPacket, encodeCancelRequest, encodeSSLRequest, encodeStartupMessage, scanStartupPacket, StartupPacketError, startupErrors } from '../../protocols/postgres/startup.js';
import { fieldsForWireError, startupRefusal } from '../../protocols/postgres/sqlstate.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { bytes, cstr, hex, int32, startupFrame } from '../support/pg-frames.js';

/** decodeStartupPacket takes what follows the length field. */
const decodeWhole = (packet: Buffer): ReturnType<typeof decodeStartupPacket> => decodeStartupPacket(packet.subarray(4));

const startupError = (packet: Buffer): StartupPacketError => {
  try {
    decodeWhole(packet);
  } catch (error) {
    if (error instanceof StartupPacketError) return error;
    throw error;
  }
  throw new Error('expected a StartupPacketError');
};

describe('scanStartupPacket', () => {
  it('asks for the length field first', () => {
    expect(scanStartupPacket(Buffer.alloc(0))).toEqual({ type: 'need_more', bytesNeeded: 4 });
    expect(scanStartupPacket(hex('00 00'))).toEqual({ type: 'need_more', bytesNeeded: 2 });
  });

  it('refuses a 1 GiB declared length from the first four bytes, without waiting for the rest', () => {
    expect(scanStartupPacket(hex('40 00 00 00'))).toMatchObject({ type: 'invalid', length: 0x40000000 });
    expect(scanStartupPacket(hex('ff ff ff ff'))).toMatchObject({ type: 'invalid', length: -1 });
  });

  // The server's MAX_STARTUP_PACKET_LENGTH (10000) counts the bytes after the length field.
  it('accepts 8..10004 and refuses just outside', () => {
    expect(scanStartupPacket(int32(7))).toMatchObject({ type: 'invalid', length: 7 });
    expect(scanStartupPacket(int32(10005))).toMatchObject({ type: 'invalid', length: 10005 });
    expect(scanStartupPacket(int32(8))).toEqual({ type: 'need_more', bytesNeeded: 4 });
    expect(scanStartupPacket(int32(10004))).toEqual({ type: 'need_more', bytesNeeded: 10000 });
  });

  it('says complete with the length once the packet is there, ignoring what follows', () => {
    const ssl = hex('00 00 00 08 04 d2 16 2f');
    expect(scanStartupPacket(ssl)).toEqual({ type: 'complete', length: 8 });
    expect(scanStartupPacket(bytes(ssl, 'Qxyz'))).toEqual({ type: 'complete', length: 8 });
    expect(scanStartupPacket(bytes('zz', ssl), 2)).toEqual({ type: 'complete', length: 8 });
  });
});

describe('decodeStartupPacket: special requests (golden bytes from the protocol docs)', () => {
  it('SSLRequest is 80877103', () => {
    expect(decodeWhole(hex('00 00 00 08 04 d2 16 2f'))).toEqual({ type: 'ssl_request' });
  });

  it('GSSENCRequest is 80877104', () => {
    expect(decodeWhole(hex('00 00 00 08 04 d2 16 30'))).toEqual({ type: 'gssenc_request' });
  });

  it('CancelRequest is 80877102 with process id and secret key', () => {
    expect(decodeWhole(hex('00 00 00 10 04 d2 16 2e 00 00 30 39 de ad be ef')))
      .toEqual({ type: 'cancel_request', processId: 12345, secretKey: 0xdeadbeef | 0 });
  });

  it('refuses a CancelRequest of the wrong size as an invalid length, as the server does', () => {
    expect(startupError(hex('00 00 00 0c 04 d2 16 2e 00 00 00 01'))).toMatchObject({ reason: 'invalid_length', message: 'invalid length of CancelRequest: 12' });
    expect(startupError(hex('00 00 00 14 04 d2 16 2e 00 00 00 01 00 00 00 02 00 00 00 03')).reason).toBe('invalid_length');
  });

  it('reads only the code of SSLRequest and GSSENCRequest, as the server does: extra bytes are ignored', () => {
    expect(decodeWhole(hex('00 00 00 0c 04 d2 16 2f 00 00 00 00'))).toEqual({ type: 'ssl_request' });
    expect(decodeWhole(hex('00 00 00 0c 04 d2 16 30 00 00 00 01'))).toEqual({ type: 'gssenc_request' });
  });
});

describe('decodeStartupPacket: StartupMessage', () => {
  const v3 = int32(196608);

  it('decodes protocol 3.0 with its parameters', () => {
    const packet = startupFrame(v3, cstr('user'), cstr('g_abc'), cstr('database'), cstr('orders'),
      cstr('application_name'), cstr('psql'), [0]);
    const decoded = decodeWhole(packet);
    expect(decoded).toMatchObject({ type: 'startup', protocolVersion: 196608, majorVersion: 3, minorVersion: 0 });
    if (decoded.type !== 'startup') throw new Error('not a startup');
    expect({ ...decoded.parameters }).toEqual({ user: 'g_abc', database: 'orders', application_name: 'psql' });
  });

  it('keeps a parameter named __proto__ as a plain key', () => {
    const decoded = decodeWhole(startupFrame(v3, cstr('user'), cstr('u'), cstr('__proto__'), cstr('x'), [0]));
    if (decoded.type !== 'startup') throw new Error('not a startup');
    expect(Object.getPrototypeOf(decoded.parameters)).toBeNull();
    expect(decoded.parameters['__proto__']).toBe('x');
  });

  it('decodes UTF-8 values', () => {
    const decoded = decodeWhole(startupFrame(v3, cstr('user'), cstr('jürgen'), [0]));
    expect(decoded.type === 'startup' && decoded.parameters['user']).toBe('jürgen');
  });

  it('reports a newer 3.x minor version for NegotiateProtocolVersion', () => {
    const decoded = decodeWhole(startupFrame(int32(196610), cstr('user'), cstr('u'), [0]));
    expect(decoded).toMatchObject({ type: 'startup', protocolVersion: 196610, minorVersion: 2 });
  });

  it('refuses other major versions, naming the version', () => {
    const old = startupError(startupFrame(int32(0x00020000), cstr('user'), cstr('u'), [0]));
    expect(old.reason).toBe('unsupported_protocol_version');
    expect(old.message).toContain('2.0');
    expect(old).toBeInstanceOf(WireFormatError);
    expect(startupError(startupFrame(int32(0x00040001), [0])).message).toContain('4.1');
  });

  it('refuses a missing or empty user', () => {
    expect(startupError(startupFrame(v3, cstr('database'), cstr('d'), [0])).reason).toBe('missing_user');
    expect(startupError(startupFrame(v3, cstr('user'), cstr(''), [0])).reason).toBe('missing_user');
    expect(startupError(startupFrame(v3, [0])).reason).toBe('missing_user');
  });

  it('refuses odd, unterminated or trailing parameter lists with the server\'s one message, saying which in `detail`', () => {
    const layout = 'invalid startup packet layout: expected terminator as last byte';
    const cases: [Buffer, RegExp][] = [
      [startupFrame(v3, cstr('user'), cstr('u'), cstr('database')), /odd/],
      [startupFrame(v3, cstr('user'), cstr('u')), /terminating/],
      [startupFrame(v3, cstr('user'), 'u'), /parameter "user" has no terminating NUL/],
      [startupFrame(v3, cstr('user'), cstr('u'), [0], 'x'), /after the parameter list/],
      [startupFrame(v3), /terminating/],
    ];
    for (const [packet, detail] of cases) {
      const error = startupError(packet);
      expect(error).toMatchObject({ reason: 'invalid_layout', message: layout });
      expect(error.detail).toMatch(detail);
    }
  });

  it('refuses a parameter given twice (jitgate\'s own rule: the server would let the last one win)', () => {
    expect(startupError(startupFrame(v3, cstr('user'), cstr('a'), cstr('user'), cstr('b'), [0]))).toMatchObject({ reason: 'duplicate_parameter' });
  });

  it('refuses bodies outside the startup limits', () => {
    expect(() => decodeStartupPacket(Buffer.alloc(3))).toThrow(WireFormatError);
    expect(() => decodeStartupPacket(Buffer.alloc(10001))).toThrow(WireFormatError);
  });
});

describe('startup-phase encoders (toward the upstream)', () => {
  it('encodeSSLRequest', () => {
    expect(encodeSSLRequest()).toEqual(hex('00 00 00 08 04 d2 16 2f'));
  });

  it('encodeCancelRequest accepts signed and unsigned 32-bit keys alike', () => {
    const expected = hex('00 00 00 10 04 d2 16 2e 00 00 30 39 de ad be ef');
    expect(encodeCancelRequest(12345, 0xdeadbeef)).toEqual(expected);
    expect(encodeCancelRequest(12345, 0xdeadbeef | 0)).toEqual(expected);
  });

  it('encodeStartupMessage', () => {
    expect(encodeStartupMessage({ user: 'jg_ro_x', database: 'orders' }))
      .toEqual(startupFrame(int32(196608), cstr('user'), cstr('jg_ro_x'), cstr('database'), cstr('orders'), [0]));
    expect(() => encodeStartupMessage({ user: 'a\0b' })).toThrow(WireFormatError);
  });
});

describe('fieldsForWireError', () => {
  it('maps startup refusals to the server codes and the rest to 08P01', () => {
    expect(fieldsForWireError(startupError(startupFrame(int32(0x00020000), [0])))).toMatchObject({ severity: 'FATAL', code: '0A000' });
    expect(fieldsForWireError(startupError(startupFrame(int32(196608), [0])))).toMatchObject({ severity: 'FATAL', code: '28000' });
    expect(fieldsForWireError(startupError(startupFrame(int32(196608), 'x')))).toMatchObject({ code: '08P01' });
    expect(fieldsForWireError(new WireFormatError('bad'))).toEqual({ severity: 'FATAL', code: '08P01', message: 'bad' });
  });
});

describe('startupRefusal: the server\'s table of answers', () => {
  it('an invalid length or an incomplete packet: nothing is sent (08P01 for the audit)', () => {
    expect(startupRefusal(startupErrors.invalidLength(0x58000000))).toMatchObject({ send: 'nothing', fields: { code: '08P01' } });
    expect(startupRefusal(startupErrors.incomplete(3))).toMatchObject({ send: 'nothing', fields: { code: '08P01' } });
    expect(startupRefusal(startupError(hex('00 00 00 0c 04 d2 16 2e 00 00 00 01'))).send).toBe('nothing');
  });

  it('names a Terminate read as a length, which node-postgres sends when ended while connecting', () => {
    expect(startupErrors.invalidLength(0x58000000).detail).toMatch(/Terminate/);
    expect(startupErrors.invalidLength(10005).detail).toBeUndefined();
  });

  it('layout, user and version refusals are a FATAL; below 3.0 in 2.0\'s framing', () => {
    expect(startupRefusal(startupError(startupFrame(int32(196608), cstr('user'))))).toMatchObject({ send: 'fatal', fields: { code: '08P01' } });
    expect(startupRefusal(startupError(startupFrame(int32(196608), [0])))).toMatchObject({ send: 'fatal', fields: { code: '28000' } });
    expect(startupRefusal(startupError(startupFrame(int32(0x00020000), [0])))).toMatchObject({ send: 'fatal_v2', fields: { code: '0A000' } });
    expect(startupRefusal(startupErrors.unsupportedProtocolVersion(1234, 5679))).toMatchObject({ send: 'fatal', fields: { code: '0A000' } });
    expect(startupRefusal(new WireFormatError('received unencrypted data after SSL request')).send).toBe('fatal');
  });

  it('encodeErrorResponseV2: \'E\' and one string, no length word (golden bytes as PostgreSQL 15 sends them)', () => {
    const message = 'unsupported frontend protocol 2.0: server supports 3.0 to 3.0';
    expect(encodeErrorResponseV2({ severity: 'FATAL', code: '0A000', message })).toEqual(bytes('E', 'FATAL:  ', message, '\n', [0]));
  });
});
