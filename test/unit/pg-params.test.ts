import { describe, expect, it } from 'vitest';
import { decodeBind } from '../../protocols/postgres/frontend-extended.js';
import { decodeBindParameters, decodeParameter, TypeOid } from '../../protocols/postgres/param-decode.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { bodyOf, bytes, cstr, frame, hex, int16, int32, int64, seededRandom, value } from '../support/pg-frames.js';

const random = seededRandom(20240501);

const binary = (oid: number, data: Uint8Array): string | null => decodeParameter(data, 1, oid);

const f32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeFloatBE(v); return b; };
const f64 = (v: number): Buffer => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return b; };

/** Days / microseconds since 2000-01-01 for an astronomical year (0 = 1 BC), computed with Date, not the codec. */
const utcMs = (year: number, month: number, day: number, h = 0, m = 0, s = 0, ms = 0): number => {
  const date = new Date(Date.UTC(2000, 0, 1, h, m, s, ms));
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
};
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const pgDays = (year: number, month: number, day: number): number => Math.round((utcMs(year, month, day) - PG_EPOCH_MS) / 86_400_000);
const pgMicros = (ms: number, extraMicros = 0): bigint => BigInt(ms - PG_EPOCH_MS) * 1000n + BigInt(extraMicros);

/** An independent numeric encoder for the tests: decimal text → the binary wire form (base-10000 groups). */
function numericBinary(text: string): Buffer {
  const negative = text.startsWith('-');
  const [intPart = '0', fracPart = ''] = text.replace('-', '').split('.');
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  let groups = [...`${intPadded}${fracPadded}`.matchAll(/\d{4}/g)].map((m) => Number(m[0]));
  let weight = intPadded.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) { groups = groups.slice(1); weight--; }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups = groups.slice(0, -1);
  if (groups.length === 0) weight = 0;
  return bytes(int16(groups.length), int16(weight), int16(negative && groups.length > 0 ? 0x4000 : 0), int16(fracPart.length), ...groups.map(int16));
}

describe('text format and NULL', () => {
  it('text is the UTF-8 string whatever the type; NULL stays null', () => {
    expect(decodeParameter(Buffer.from('42'), 0, TypeOid.int4)).toBe('42');
    expect(decodeParameter(Buffer.from('héllo'), 0, 0)).toBe('héllo');
    expect(decodeParameter(null, 1, TypeOid.int4)).toBeNull();
    expect(decodeParameter(Buffer.alloc(0), 0, TypeOid.text)).toBe('');
  });
});

describe('binary format by type OID', () => {
  it('bool, bytea, integers, oid', () => {
    expect(binary(16, hex('01'))).toBe('t');
    expect(binary(16, hex('00'))).toBe('f');
    expect(binary(17, hex('de ad 00 ff'))).toBe('\\xdead00ff');
    expect(binary(17, Buffer.alloc(0))).toBe('\\x');
    expect(binary(21, int16(-2))).toBe('-2');
    expect(binary(23, int32(2147483647))).toBe('2147483647');
    expect(binary(23, int32(-2147483648))).toBe('-2147483648');
    expect(binary(20, int64(-(2n ** 63n)))).toBe('-9223372036854775808');
    expect(binary(20, int64(1234567890123456789n))).toBe('1234567890123456789');
    expect(binary(26, int32(-1))).toBe('4294967295');
  });

  it('text-like types, json and jsonb (version byte 1)', () => {
    for (const oid of [25, 1043, 1042, 114, 19]) expect(binary(oid, Buffer.from('ça va'))).toBe('ça va');
    expect(binary(3802, bytes([1], '{"a": 1}'))).toBe('{"a": 1}');
    expect(() => binary(3802, bytes([2], '{}'))).toThrow(/version 2/);
    expect(() => binary(3802, Buffer.alloc(0))).toThrow(WireFormatError);
  });

  it('uuid', () => {
    expect(binary(2950, hex('a0eebc99 9c0b 4ef8 bb6d 6bb9bd380a11'))).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  });

  it('float4 and float8 print as the server does (shortest round-trip, %g-style thresholds)', () => {
    const cases4: [number, string][] = [[1.5, '1.5'], [0.1, '0.1'], [123456, '123456'], [1e6, '1e+06'], [1234567, '1.234567e+06'],
      [0.0001, '0.0001'], [1e-5, '1e-05'], [-2.5, '-2.5'], [3.4028234663852886e38, '3.4028235e+38'], [0, '0'], [-0, '-0'],
      [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']];
    for (const [input, text] of cases4) expect(binary(700, f32(input))).toBe(text);
    const cases8: [number, string][] = [[0.1, '0.1'], [1 / 3, '0.3333333333333333'], [100, '100'], [1e15, '1e+15'],
      [123456789012345, '123456789012345'], [1.5e300, '1.5e+300'], [5e-324, '5e-324'], [0.00012, '0.00012'], [1.2e-5, '1.2e-05'],
      [-1e100, '-1e+100'], [2 ** 53, '9.007199254740992e+15']];
    for (const [input, text] of cases8) expect(binary(701, f64(input))).toBe(text);
  });

  it('floats read back exactly (random bit patterns)', () => {
    const data = Buffer.alloc(8);
    for (let i = 0; i < 2000; i++) {
      data.writeUInt32BE((random() * 2 ** 32) >>> 0, 0);
      data.writeUInt32BE((random() * 2 ** 32) >>> 0, 4);
      const v8 = data.readDoubleBE(0);
      const t8 = binary(701, data) ?? '';
      if (!Number.isNaN(v8)) expect(Object.is(Number(t8), v8)).toBe(true);
      expect(t8).toMatch(/^(-?\d+(\.\d+)?|-?\d(\.\d+)?e[+-]\d{2,3}|NaN|-?Infinity)$/);
      const v4 = data.readFloatBE(0);
      const t4 = binary(700, data.subarray(0, 4)) ?? '';
      if (!Number.isNaN(v4)) expect(Object.is(Math.fround(Number(t4)), v4)).toBe(true);
    }
  });

  it('date in ISO style, BC years and infinities', () => {
    expect(binary(1082, int32(0))).toBe('2000-01-01');
    expect(binary(1082, int32(-1))).toBe('1999-12-31');
    expect(binary(1082, int32(pgDays(2024, 2, 29)))).toBe('2024-02-29');
    expect(binary(1082, int32(pgDays(-43, 3, 15)))).toBe('0044-03-15 BC');
    expect(binary(1082, int32(pgDays(0, 12, 31)))).toBe('0001-12-31 BC');
    expect(binary(1082, int32(pgDays(1, 1, 1)))).toBe('0001-01-01');
    expect(binary(1082, int32(pgDays(12345, 6, 7)))).toBe('12345-06-07');
    expect(binary(1082, int32(0x7fffffff))).toBe('infinity');
    expect(binary(1082, int32(-0x80000000))).toBe('-infinity');
  });

  it('timestamp and timestamptz (UTC), fractions without trailing zeros', () => {
    expect(binary(1114, int64(0n))).toBe('2000-01-01 00:00:00');
    expect(binary(1114, int64(1_500_000n))).toBe('2000-01-01 00:00:01.5');
    expect(binary(1114, int64(-1n))).toBe('1999-12-31 23:59:59.999999');
    expect(binary(1114, int64(pgMicros(utcMs(2024, 5, 1, 12, 30, 0, 250))))).toBe('2024-05-01 12:30:00.25');
    expect(binary(1184, int64(pgMicros(utcMs(2024, 5, 1, 12, 30, 0), 7)))).toBe('2024-05-01 12:30:00.000007+00');
    expect(binary(1114, int64(pgMicros(utcMs(-43, 3, 15, 12))))).toBe('0044-03-15 12:00:00 BC');
    expect(binary(1184, int64(pgMicros(utcMs(-43, 3, 15, 12))))).toBe('0044-03-15 12:00:00+00 BC');
    expect(binary(1114, int64(2n ** 63n - 1n))).toBe('infinity');
    expect(binary(1184, int64(-(2n ** 63n)))).toBe('-infinity');
  });

  it('numeric: base-10000 digits, weight, sign, dscale, specials', () => {
    expect(binary(1700, hex('0000 0000 0000 0000'))).toBe('0');
    expect(binary(1700, hex('0003 0001 0000 0003 0001 0929 1a7c'))).toBe('12345.678'); // [1, 2345, 6780]
    expect(binary(1700, hex('0001 ffff 4000 0004 0001'))).toBe('-0.0001');
    expect(binary(1700, hex('0001 fffe 0000 0005 03e8'))).toBe('0.00001'); // 0.0000|1000
    expect(binary(1700, hex('0001 0001 0000 0002 03e8'))).toBe('10000000.00');
    expect(binary(1700, hex('0002 0001 0000 0000 0000 002a'))).toBe('42'); // leading zero group
    expect(binary(1700, hex('0002 0000 0000 0000 0001 1388'))).toBe('1'); // 1.5 truncated to dscale 0
    expect(binary(1700, hex('0001 ffff 4000 0000 1388'))).toBe('0'); // -0.5 truncated: zero has no sign
    expect(binary(1700, hex('0000 0000 4000 0002'))).toBe('0.00');
    expect(binary(1700, hex('0000 0000 c000 0000'))).toBe('NaN');
    expect(binary(1700, hex('0000 0000 d000 0000'))).toBe('Infinity');
    expect(binary(1700, hex('0000 0000 f000 0000'))).toBe('-Infinity');
  });

  it('numeric: agrees with an independent encoder on random values', () => {
    const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(random() * 10))).join('');
    for (let i = 0; i < 2000; i++) {
      const intPart = digits(Math.floor(random() * 30)).replace(/^0+(?=.)/, '') || '0';
      const frac = digits(Math.floor(random() * 20));
      const sign = random() < 0.5 ? '-' : '';
      const text = `${sign}${intPart}${frac === '' ? '' : `.${frac}`}`;
      const isZero = /^-?[0.]*$/.test(text);
      expect(binary(1700, numericBinary(text))).toBe(isZero ? text.replace('-', '') : text);
    }
  });

  it('numeric: refuses bad digits, sign, dscale and lengths', () => {
    expect(() => binary(1700, hex('0001 0000 0000 0000 2710'))).toThrow(/invalid digit 10000/);
    expect(() => binary(1700, hex('0000 0000 1234 0000'))).toThrow(/invalid sign/);
    expect(() => binary(1700, hex('0000 0000 0000 4000'))).toThrow(/invalid dscale/);
    expect(() => binary(1700, hex('0002 0000 0000 0000 0001'))).toThrow(WireFormatError);
    expect(() => binary(1700, hex('0000 0000 0000'))).toThrow(WireFormatError);
  });

  it('wrong fixed lengths are WireFormatError', () => {
    for (const [oid, length] of [[16, 2], [21, 4], [23, 3], [20, 4], [26, 8], [700, 8], [701, 4], [1082, 8], [1114, 4], [1184, 0], [2950, 15]] as const) {
      expect(() => binary(oid, Buffer.alloc(length)), `oid ${oid}`).toThrow(WireFormatError);
    }
  });

  it('unknown or unspecified type in binary is hex', () => {
    expect(binary(0, hex('00 01 02'))).toBe('\\x000102');
    expect(binary(600, hex('ff'))).toBe('\\xff'); // point
  });

  it('refuses a format code that is neither text nor binary', () => {
    expect(() => decodeParameter(Buffer.from('x'), 2 as 0, 25)).toThrow(WireFormatError);
  });
});

describe('decodeBindParameters', () => {
  it('applies per-parameter formats and the Parse types, shorter type lists meaning "unspecified"', () => {
    const bind = decodeBind(bodyOf(frame('B', cstr(''), cstr('s'), int16(3), int16(1), int16(0), int16(1),
      int16(3), value(int32(7)), value('abc'), value(hex('ca fe')), int16(0))));
    expect(decodeBindParameters(bind, [23, 25])).toEqual(['7', 'abc', '\\xcafe']);
    const allText = decodeBind(bodyOf(frame('B', cstr(''), cstr(''), int16(0), int16(2), value('1'), value(null), int16(0))));
    expect(decodeBindParameters(allText, [])).toEqual(['1', null]);
  });
});
