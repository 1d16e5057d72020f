import { describe, expect, it } from 'vitest';
import { decodeFrontendMessage } from '../../protocols/postgres/frontend.js';
import { decodePasswordMessage, decodeSASLInitialResponse, decodeSASLResponse } from '../../protocols/postgres/frontend-auth.js';
import { decodeCopyData, decodeCopyDone, decodeCopyFail } from '../../protocols/postgres/frontend-copy.js';
import { bindParamFormat, decodeBind, decodeClose, decodeDescribe, decodeExecute, decodeFlush, decodeParse, decodeSync } from '../../protocols/postgres/frontend-extended.js';
import { decodeFunctionCall, decodeQuery, decodeTerminate } from '../../protocols/postgres/frontend-simple.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { bodyOf, bytes, cstr, frame, hex, int16, int32, value } from '../support/pg-frames.js';

/** Decodes a whole frame through the dispatcher after checking its header, as the scanner would. */
const viaDispatcher = (message: Buffer): ReturnType<typeof decodeFrontendMessage> => {
  expect(message.readInt32BE(1)).toBe(message.length - 1);
  return decodeFrontendMessage(message[0] as number, bodyOf(message));
};

const hexOf = (view: Uint8Array | null | undefined): string | null | undefined =>
  view === null || view === undefined ? view : Buffer.from(view).toString('hex');

describe('simple query messages', () => {
  it('Query: hand-written bytes', () => {
    const message = hex('51 00 00 00 0d 73 65 6c 65 63 74 20 31 00'); // 'Q', len 13, "select 1\0"
    expect(viaDispatcher(message)).toEqual({ type: 'query', sql: 'select 1' });
    expect(decodeQuery(bodyOf(frame('Q', cstr('select 1; select 2'))))).toEqual({ type: 'query', sql: 'select 1; select 2' });
  });

  it('Query: refuses trailing bytes and a missing terminator', () => {
    expect(() => decodeQuery(bodyOf(frame('Q', cstr('x'), 'y')))).toThrow(WireFormatError);
    expect(() => decodeQuery(bodyOf(frame('Q', 'x')))).toThrow(/NUL/);
  });

  it('Terminate: empty body only', () => {
    expect(viaDispatcher(hex('58 00 00 00 04'))).toEqual({ type: 'terminate' });
    expect(() => decodeTerminate(Buffer.from([0]))).toThrow(WireFormatError);
  });

  it('FunctionCall with per-argument formats and a NULL', () => {
    const message = frame('F', int32(1598), int16(2), int16(0), int16(1), int16(2), value('abc'), value(null), int16(1));
    const decoded = viaDispatcher(message);
    expect(decoded).toMatchObject({ type: 'function_call', functionOid: 1598, argumentFormats: [0, 1], resultFormat: 1 });
    if (decoded.type !== 'function_call') throw new Error('not a FunctionCall');
    expect(decoded.arguments.map(hexOf)).toEqual(['616263', null]);
  });

  it('FunctionCall: refuses a format count that is neither 0, 1 nor the argument count', () => {
    const body = bodyOf(frame('F', int32(1), int16(2), int16(0), int16(0), int16(3), value('a'), value('b'), value('c'), int16(0)));
    expect(() => decodeFunctionCall(body)).toThrow(/2 parameter formats but 3/);
  });
});

describe('extended query messages', () => {
  it('Parse with parameter types', () => {
    const message = frame('P', cstr('s1'), cstr('select $1::int, $2'), int16(2), int32(23), int32(0));
    expect(viaDispatcher(message)).toEqual({ type: 'parse', statement: 's1', sql: 'select $1::int, $2', paramTypes: [23, 0] });
  });

  it('Parse: the unnamed statement, OIDs read unsigned, and a lying type count', () => {
    expect(decodeParse(bodyOf(frame('P', cstr(''), cstr('select 1'), int16(1), int32(-1)))).paramTypes).toEqual([0xffffffff]);
    expect(() => decodeParse(bodyOf(frame('P', cstr(''), cstr('x'), int16(0xffff))))).toThrow(/65535 entries need/);
  });

  it('Bind: no formats (all text), values and NULL, result formats', () => {
    const message = frame('B', cstr('p1'), cstr('s1'), int16(0), int16(3), value('42'), value(null), value(''), int16(1), int16(1));
    const decoded = viaDispatcher(message);
    expect(decoded).toMatchObject({ type: 'bind', portal: 'p1', statement: 's1', paramFormats: [], resultFormats: [1] });
    if (decoded.type !== 'bind') throw new Error('not a Bind');
    expect(decoded.params.map(hexOf)).toEqual(['3432', null, '']);
    expect([0, 1, 2].map((i) => bindParamFormat(decoded, i))).toEqual([0, 0, 0]);
  });

  it('Bind: one format for all, and one per parameter', () => {
    const all = decodeBind(bodyOf(frame('B', cstr(''), cstr(''), int16(1), int16(1), int16(2), value([0, 0, 0, 1]), value('x'), int16(0))));
    expect([0, 1].map((i) => bindParamFormat(all, i))).toEqual([1, 1]);
    const each = decodeBind(bodyOf(frame('B', cstr(''), cstr(''), int16(2), int16(1), int16(0), int16(2), value([1]), value('x'), int16(0))));
    expect([0, 1].map((i) => bindParamFormat(each, i))).toEqual([1, 0]);
  });

  it('Bind: parameter values are views into the body, not copies', () => {
    const body = bodyOf(frame('B', cstr(''), cstr(''), int16(0), int16(1), value('abcd'), int16(0)));
    const decoded = decodeBind(body);
    const param = decoded.params[0];
    expect(param?.buffer).toBe(body.buffer);
    body[body.length - 3] = 0x7a; // the last byte of 'abcd'
    expect(Buffer.from(param ?? []).toString()).toBe('abcz');
  });

  it('Bind: refuses bad format codes, format/param count mismatches, negative lengths, short values', () => {
    const bind = (...parts: Parameters<typeof bytes>): (() => unknown) => () => decodeBind(bytes(cstr(''), cstr(''), ...parts));
    expect(bind(int16(1), int16(2), int16(0), int16(0))).toThrow(/unsupported format code 2/);
    expect(bind(int16(2), int16(0), int16(0), int16(1), value('a'), int16(0))).toThrow(/2 parameter formats but 1/);
    expect(bind(int16(0), int16(1), int32(-2), int16(0))).toThrow(/negative length/);
    expect(bind(int16(0), int16(1), int32(5), 'abc', int16(0))).toThrow(WireFormatError);
    expect(bind(int16(0), int16(0))).toThrow(WireFormatError);
    expect(bind(int16(0), int16(0), int16(0), 'x')).toThrow(/trailing/);
  });

  it('Describe and Close: statement or portal', () => {
    expect(viaDispatcher(hex('44 00 00 00 08 53 73 31 00'))).toEqual({ type: 'describe', target: 'statement', name: 's1' });
    expect(decodeDescribe(bodyOf(frame('D', 'P', cstr(''))))).toEqual({ type: 'describe', target: 'portal', name: '' });
    expect(viaDispatcher(frame('C', 'S', cstr('s1')))).toEqual({ type: 'close', target: 'statement', name: 's1' });
    expect(decodeClose(bodyOf(frame('C', 'P', cstr('p'))))).toEqual({ type: 'close', target: 'portal', name: 'p' });
    expect(() => decodeDescribe(bodyOf(frame('D', 'X', cstr(''))))).toThrow(/expected 'S' or 'P'/);
    expect(() => decodeClose(bodyOf(frame('C', 'S')))).toThrow(WireFormatError);
  });

  it('Execute with a row limit', () => {
    expect(viaDispatcher(hex('45 00 00 00 0b 70 31 00 00 00 00 64'))).toEqual({ type: 'execute', portal: 'p1', maxRows: 100 });
    expect(decodeExecute(bodyOf(frame('E', cstr(''), int32(0))))).toEqual({ type: 'execute', portal: '', maxRows: 0 });
    expect(() => decodeExecute(bodyOf(frame('E', cstr(''), int16(0))))).toThrow(WireFormatError);
  });

  it('Sync and Flush: empty bodies only', () => {
    expect(viaDispatcher(hex('53 00 00 00 04'))).toEqual({ type: 'sync' });
    expect(viaDispatcher(hex('48 00 00 00 04'))).toEqual({ type: 'flush' });
    expect(() => decodeSync(Buffer.from([1]))).toThrow(WireFormatError);
    expect(() => decodeFlush(Buffer.from([1]))).toThrow(WireFormatError);
  });
});

describe('COPY messages', () => {
  it('CopyData is a view of the body', () => {
    const message = frame('d', '1\tone\n');
    const decoded = viaDispatcher(message);
    expect(decoded.type).toBe('copy_data');
    if (decoded.type !== 'copy_data') throw new Error('not CopyData');
    expect(Buffer.from(decoded.data).toString()).toBe('1\tone\n');
    expect(decoded.data.buffer).toBe(message.buffer);
    expect(decodeCopyData(Buffer.alloc(0)).data.length).toBe(0);
  });

  it('CopyDone and CopyFail', () => {
    expect(viaDispatcher(hex('63 00 00 00 04'))).toEqual({ type: 'copy_done' });
    expect(() => decodeCopyDone(Buffer.from('x'))).toThrow(WireFormatError);
    expect(viaDispatcher(frame('f', cstr('aborted by user')))).toEqual({ type: 'copy_fail', message: 'aborted by user' });
    expect(() => decodeCopyFail(Buffer.from('x'))).toThrow(WireFormatError);
  });
});

describe('dispatcher', () => {
  it('refuses unknown types and the auth-only p', () => {
    expect(() => decodeFrontendMessage(0x7a, Buffer.alloc(0))).toThrow(/invalid frontend message type 'z'/);
    expect(() => decodeFrontendMessage(0x70, cstr('pw'))).toThrow(WireFormatError);
    expect(() => decodeFrontendMessage(0x00, Buffer.alloc(0))).toThrow(/0x00/);
  });
});

describe("authentication 'p' messages (decoded by auth state)", () => {
  it('PasswordMessage', () => {
    expect(decodePasswordMessage(bodyOf(hex('70 00 00 00 0b 73 65 63 72 65 74 00')))).toEqual({ type: 'password', password: 'secret' });
    expect(() => decodePasswordMessage(bodyOf(frame('p', cstr('a'), 'b')))).toThrow(WireFormatError);
  });

  it('SASLInitialResponse with data, and with -1 (no initial response)', () => {
    const first = 'n,,n=,r=rOprNGfwEbeRWgbNEkqO';
    const decoded = decodeSASLInitialResponse(bodyOf(frame('p', cstr('SCRAM-SHA-256'), int32(first.length), first)));
    expect(decoded.mechanism).toBe('SCRAM-SHA-256');
    expect(Buffer.from(decoded.data ?? []).toString()).toBe(first);
    expect(decodeSASLInitialResponse(bodyOf(frame('p', cstr('SCRAM-SHA-256'), int32(-1))))).toEqual({
      type: 'sasl_initial_response', mechanism: 'SCRAM-SHA-256', data: null });
  });

  it('SASLInitialResponse: refuses a length that lies, trailing bytes, other negatives', () => {
    expect(() => decodeSASLInitialResponse(bodyOf(frame('p', cstr('M'), int32(10), 'abc')))).toThrow(WireFormatError);
    expect(() => decodeSASLInitialResponse(bodyOf(frame('p', cstr('M'), int32(1), 'ab')))).toThrow(/trailing/);
    expect(() => decodeSASLInitialResponse(bodyOf(frame('p', cstr('M'), int32(-2))))).toThrow(/negative/);
  });

  it('SASLResponse is the whole body', () => {
    expect(Buffer.from(decodeSASLResponse(bodyOf(frame('p', 'c=biws,r=x,p=y'))).data).toString()).toBe('c=biws,r=x,p=y');
  });
});
