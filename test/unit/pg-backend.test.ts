import { describe, expect, it } from 'vitest';
import { decodeBackendMessage } from '../../protocols/postgres/backend.js';
import {
  AUTHENTICATION_OK, decodeAuthentication, encodeAuthenticationCleartextPassword, encodeAuthenticationMD5Password, encodeAuthenticationOk,
  encodeAuthenticationSASL, encodeAuthenticationSASLContinue, encodeAuthenticationSASLFinal,
} from '../../protocols/postgres/backend-auth.js';
import { decodeErrorResponse, decodeNoticeResponse, encodeErrorResponse, encodeNoticeResponse } from '../../protocols/postgres/backend-error.js';
import {
  BIND_COMPLETE, CLOSE_COMPLETE, decodeCommandComplete, decodeReadyForQuery, EMPTY_QUERY_RESPONSE, encodeBackendKeyData,
  encodeNegotiateProtocolVersion, encodeParameterStatus, encodeReadyForQuery, NO_DATA, PARSE_COMPLETE, parseCommandTag, PORTAL_SUSPENDED,
} from '../../protocols/postgres/backend-status.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { bodyOf, bytes, cstr, frame, hex, int16, int32, int8 } from '../support/pg-frames.js';

const decode = (message: Buffer): ReturnType<typeof decodeBackendMessage> => {
  expect(message.readInt32BE(1)).toBe(message.length - 1);
  return decodeBackendMessage(message[0] as number, bodyOf(message));
};

describe('CommandComplete', () => {
  it.each([
    ['INSERT 0 5', 'INSERT', 5],
    ['UPDATE 12', 'UPDATE', 12],
    ['DELETE 0', 'DELETE', 0],
    ['SELECT 1000000', 'SELECT', 1000000],
    ['MOVE 3', 'MOVE', 3],
    ['FETCH 50', 'FETCH', 50],
    ['COPY 7', 'COPY', 7],
    ['MERGE 2', 'MERGE', 2],
    ['CREATE TABLE', 'CREATE TABLE', null],
    ['BEGIN', 'BEGIN', null],
    ['SELECT', 'SELECT', null],
    ['INSERT 5', 'INSERT 5', null],
    ['UPDATE x', 'UPDATE x', null],
  ])('%s', (tag, command, rows) => {
    expect(decode(frame('C', cstr(tag)))).toEqual({ type: 'command_complete', tag, command, rows });
  });

  it('from hand-written bytes, and refuses trailing bytes', () => {
    expect(decode(hex('43 00 00 00 0d 53 45 4c 45 43 54 20 31 00'))).toMatchObject({ command: 'SELECT', rows: 1 });
    expect(() => decodeCommandComplete(bytes(cstr('BEGIN'), 'x'))).toThrow(WireFormatError);
    expect(parseCommandTag('INSERT 0 18446744073709551615').rows).toBeGreaterThan(2 ** 63);
  });
});

describe('status messages', () => {
  it('ReadyForQuery I / T / E, nothing else', () => {
    expect(decode(hex('5a 00 00 00 05 49'))).toEqual({ type: 'ready_for_query', status: 'I' });
    expect(decode(hex('5a 00 00 00 05 54'))).toEqual({ type: 'ready_for_query', status: 'T' });
    expect(decode(hex('5a 00 00 00 05 45'))).toEqual({ type: 'ready_for_query', status: 'E' });
    expect(() => decodeReadyForQuery(hex('58'))).toThrow(/invalid transaction status/);
    expect(() => decodeReadyForQuery(hex('49 49'))).toThrow(WireFormatError);
  });

  it('ParameterStatus and BackendKeyData', () => {
    expect(decode(frame('S', cstr('server_version'), cstr('16.4')))).toEqual({ type: 'parameter_status', name: 'server_version', value: '16.4' });
    expect(decode(hex('4b 00 00 00 0c 00 00 04 d2 ff ff ff fe'))).toEqual({ type: 'backend_key_data', processId: 1234, secretKey: -2 });
    expect(() => decodeBackendMessage(0x4b, hex('00 00 04 d2'))).toThrow(WireFormatError);
  });

  it('Copy*Response: overall and column formats', () => {
    expect(decode(frame('G', int8(0), int16(2), int16(0), int16(0)))).toEqual({ type: 'copy_in_response', format: 0, columnFormats: [0, 0] });
    expect(decode(frame('H', int8(1), int16(1), int16(1)))).toEqual({ type: 'copy_out_response', format: 1, columnFormats: [1] });
    expect(decode(frame('W', int8(0), int16(0)))).toEqual({ type: 'copy_both_response', format: 0, columnFormats: [] });
    expect(() => decode(frame('H', int8(2), int16(0)))).toThrow(/overall format/);
    expect(() => decode(frame('H', int8(0), int16(1), int16(3)))).toThrow(/format code 3/);
    expect(() => decode(frame('H', int8(0), int16(3), int16(0)))).toThrow(/3 entries need/);
  });

  it('bodiless acknowledgements', () => {
    expect(decode(hex('49 00 00 00 04'))).toEqual({ type: 'empty_query_response' });
    expect(decode(hex('6e 00 00 00 04'))).toEqual({ type: 'no_data' });
    expect(decode(hex('31 00 00 00 04'))).toEqual({ type: 'parse_complete' });
    expect(decode(hex('32 00 00 00 04'))).toEqual({ type: 'bind_complete' });
    expect(decode(hex('33 00 00 00 04'))).toEqual({ type: 'close_complete' });
    expect(decode(hex('73 00 00 00 04'))).toEqual({ type: 'portal_suspended' });
    expect(() => decodeBackendMessage(0x31, Buffer.from([0]))).toThrow(WireFormatError);
  });

  it('has no decoder for row data', () => {
    expect(() => decodeBackendMessage(0x44, Buffer.alloc(2))).toThrow(/no decoder for backend message type 'D'/);
  });
});

describe('ErrorResponse / NoticeResponse', () => {
  const fields = bytes('S', cstr('ERREUR'), 'V', cstr('ERROR'), 'C', cstr('42P01'), 'M', cstr('relation "nope" does not exist'),
    'P', cstr('15'), 'F', cstr('parse_relation.c'), 'L', cstr('1449'), 'R', cstr('parserOpenTable'), [0]);

  it('decodes every field into the map, with typed severity (from V), code and message', () => {
    const decoded = decode(frame('E', fields));
    expect(decoded).toMatchObject({ type: 'error_response', severity: 'ERROR', code: '42P01', message: 'relation "nope" does not exist' });
    if (decoded.type !== 'error_response') throw new Error('not an ErrorResponse');
    expect({ ...decoded.fields }).toEqual({ S: 'ERREUR', V: 'ERROR', C: '42P01', M: 'relation "nope" does not exist', P: '15',
      F: 'parse_relation.c', L: '1449', R: 'parserOpenTable' });
  });

  it('falls back to S without V, and to null for a localized S alone', () => {
    expect(decodeNoticeResponse(bytes('S', cstr('NOTICE'), 'C', cstr('00000'), 'M', cstr('hi'), [0])).severity).toBe('NOTICE');
    expect(decodeNoticeResponse(bytes('S', cstr('HINWEIS'), 'C', cstr('00000'), 'M', cstr('hi'), [0])).severity).toBeNull();
  });

  it('refuses a missing S, C or M, a missing terminator, trailing bytes', () => {
    expect(() => decodeErrorResponse(bytes('S', cstr('ERROR'), 'M', cstr('m'), [0]))).toThrow(/S, C, M/);
    expect(() => decodeErrorResponse(bytes('S', cstr('ERROR'), 'C', cstr('XX000'), 'M', cstr('m')))).toThrow(WireFormatError);
    expect(() => decodeErrorResponse(bytes(fields, 'x'))).toThrow(/trailing/);
  });

  it('encodes S, V, C, M and the optional D, H, in that order', () => {
    expect(encodeErrorResponse({ severity: 'FATAL', code: '28P01', message: 'password authentication failed for user "g_x"' }))
      .toEqual(frame('E', 'S', cstr('FATAL'), 'V', cstr('FATAL'), 'C', cstr('28P01'), 'M', cstr('password authentication failed for user "g_x"'), [0]));
    expect(encodeNoticeResponse({ severity: 'WARNING', code: '01000', message: 'm', detail: 'd', hint: 'h' }))
      .toEqual(frame('N', 'S', cstr('WARNING'), 'V', cstr('WARNING'), 'C', cstr('01000'), 'M', cstr('m'), 'D', cstr('d'), 'H', cstr('h'), [0]));
  });

  it('refuses to encode a NUL inside a field', () => {
    expect(() => encodeErrorResponse({ severity: 'ERROR', code: 'XX000', message: 'a\0b' })).toThrow(WireFormatError);
  });
});

describe('status encoders', () => {
  it('ParameterStatus, BackendKeyData, ReadyForQuery', () => {
    expect(encodeParameterStatus('client_encoding', 'UTF8')).toEqual(frame('S', cstr('client_encoding'), cstr('UTF8')));
    expect(encodeBackendKeyData(1234, 0xfffffffe)).toEqual(hex('4b 00 00 00 0c 00 00 04 d2 ff ff ff fe'));
    expect(encodeBackendKeyData(1234, -2)).toEqual(hex('4b 00 00 00 0c 00 00 04 d2 ff ff ff fe'));
    expect(encodeReadyForQuery('I')).toEqual(hex('5a 00 00 00 05 49'));
    expect(encodeReadyForQuery('T')).toEqual(hex('5a 00 00 00 05 54'));
    expect(encodeReadyForQuery('E')).toEqual(hex('5a 00 00 00 05 45'));
    expect(encodeReadyForQuery('I')).toBe(encodeReadyForQuery('I'));
  });

  it('bodiless constants', () => {
    expect([EMPTY_QUERY_RESPONSE, NO_DATA, PARSE_COMPLETE, BIND_COMPLETE, CLOSE_COMPLETE, PORTAL_SUSPENDED])
      .toEqual(['I', 'n', '1', '2', '3', 's'].map((type) => frame(type)));
  });

  it('NegotiateProtocolVersion', () => {
    expect(encodeNegotiateProtocolVersion(0, ['_pq_.x'])).toEqual(frame('v', int32(0), int32(1), cstr('_pq_.x')));
  });
});

describe('Authentication', () => {
  it('encoders match the protocol docs', () => {
    expect(encodeAuthenticationOk()).toEqual(hex('52 00 00 00 08 00 00 00 00'));
    expect(AUTHENTICATION_OK).toBe(encodeAuthenticationOk());
    expect(encodeAuthenticationCleartextPassword()).toEqual(hex('52 00 00 00 08 00 00 00 03'));
    expect(encodeAuthenticationMD5Password(hex('01 02 03 04'))).toEqual(hex('52 00 00 00 0c 00 00 00 05 01 02 03 04'));
    expect(encodeAuthenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']))
      .toEqual(frame('R', int32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), [0]));
    expect(encodeAuthenticationSASLContinue('r=abc,s=c2FsdA==,i=4096')).toEqual(frame('R', int32(11), 'r=abc,s=c2FsdA==,i=4096'));
    expect(encodeAuthenticationSASLFinal(Buffer.from('v=xyz'))).toEqual(frame('R', int32(12), 'v=xyz'));
    expect(() => encodeAuthenticationMD5Password(Buffer.alloc(3))).toThrow(RangeError);
  });

  it('decodes what the upstream asks', () => {
    expect(decode(hex('52 00 00 00 08 00 00 00 00'))).toEqual({ type: 'authentication_ok' });
    expect(decodeAuthentication(int32(3))).toEqual({ type: 'authentication_cleartext_password' });
    const md5 = decodeAuthentication(bytes(int32(5), [9, 8, 7, 6]));
    expect(md5.type === 'authentication_md5_password' && [...md5.salt]).toEqual([9, 8, 7, 6]);
    expect(decodeAuthentication(bytes(int32(10), cstr('SCRAM-SHA-256'), [0]))).toEqual({ type: 'authentication_sasl', mechanisms: ['SCRAM-SHA-256'] });
    const cont = decodeAuthentication(bytes(int32(11), 'r=x'));
    expect(cont.type === 'authentication_sasl_continue' && Buffer.from(cont.data).toString()).toBe('r=x');
    expect(decodeAuthentication(int32(7))).toEqual({ type: 'authentication_unsupported', code: 7 });
    expect(() => decodeAuthentication(int32(99))).toThrow(/unknown request code 99/);
    expect(() => decodeAuthentication(bytes(int32(10), [0]))).toThrow(/no mechanisms/);
    expect(() => decodeAuthentication(bytes(int32(5), [1, 2]))).toThrow(WireFormatError);
  });
});
