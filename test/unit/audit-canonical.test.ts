import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalJsonError } from '../../src/audit/canonical.js';
import { Secret } from '../../src/audit/secret.js';

describe('canonicalJson', () => {
  it('sorts keys recursively and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
  });

  it('keeps array order and sorts objects inside arrays', () => {
    expect(canonicalJson([{ z: true, y: false }, 3, [2, 1]])).toBe('[{"y":false,"z":true},3,[2,1]]');
  });

  it('sorts by UTF-16 code unit, not by code point or locale', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FFFF; uppercase sorts before lowercase.
    const value = { '\uffff': 1, '\u{1F600}': 2, b: 3, B: 4, 'é': 5, a10: 6, a9: 7 };
    expect(canonicalJson(value)).toBe('{"B":4,"a10":6,"a9":7,"b":3,"é":5,"\u{1F600}":2,"\uffff":1}');
  });

  it('omits undefined members and writes undefined array slots as null', () => {
    expect(canonicalJson({ a: undefined, b: 'x', c: [undefined, 1] })).toBe('{"b":"x","c":[null,1]}');
  });

  it('prints numbers as JSON numbers', () => {
    expect(canonicalJson({ int: 42, neg: -7, frac: 0.5, big: 1e21, tiny: 1e-7, zero: -0 }))
      .toBe('{"big":1e+21,"frac":0.5,"int":42,"neg":-7,"tiny":1e-7,"zero":0}');
  });

  it('escapes strings as JSON does', () => {
    expect(canonicalJson({ s: 'quote " backslash \\ newline \n tab \t nul \u0000 é' }))
      .toBe('{"s":"quote \\" backslash \\\\ newline \\n tab \\t nul \\u0000 é"}');
  });

  it('rejects non-finite numbers, naming the path and not the value', () => {
    expect(() => canonicalJson({ a: { durationMs: Number.NaN } })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: { durationMs: Number.NaN } })).toThrow('non-finite number at $.a.durationMs');
    expect(() => canonicalJson({ list: [1, Number.POSITIVE_INFINITY] })).toThrow('non-finite number at $.list[1]');
    expect(() => canonicalJson(Number.NEGATIVE_INFINITY)).toThrow(CanonicalJsonError);
  });

  it('rejects values JSON cannot represent faithfully', () => {
    expect(() => canonicalJson({ n: 10n })).toThrow('unsupported bigint at $.n');
    expect(() => canonicalJson({ f: () => 1 })).toThrow('unsupported function at $.f');
    expect(() => canonicalJson({ m: new Map() })).toThrow('unsupported object at $.m');
    expect(() => canonicalJson(undefined)).toThrow(CanonicalJsonError);
  });

  it('rejects cycles but accepts shared references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow('cycle at $.self');
  });

  it('honours toJSON, so a Secret can only ever appear redacted', () => {
    expect(canonicalJson({ when: new Date('2024-05-01T12:00:00.000Z'), key: new Secret('hunter2') }))
      .toBe('{"key":"[redacted]","when":"2024-05-01T12:00:00.000Z"}');
  });

  it('accepts null-prototype objects', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
  });
});
