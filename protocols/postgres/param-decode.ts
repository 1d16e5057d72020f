// Bind parameters (and FunctionCall arguments) as audit text (DESIGN §6): text format is the value itself; binary
// format is rendered by type OID the way the server's output function would print it (so the audit matches what
// log_statement shows), and anything unknown as bytea-style hex. Wrong lengths are WireFormatError, like the
// server's own "insufficient data left in message" / "incorrect binary data format".
import { WireFormatError } from '../shared/wire-format-error.js';
import { type FormatCode, FormatCode as Formats } from './codes.js';
import type { Bind } from './frontend-extended.js';
import { formatAt } from './wire-read.js';

/** Type OIDs from pg_type that have a binary decoder here. */
export const TypeOid = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/** bytea's hex output form, also used for binary values of types without a decoder here. */
export const byteaHex = (bytes: Uint8Array): string =>
  `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function expectLength(bytes: Uint8Array, length: number, type: string): DataView {
  if (bytes.length !== length) throw new WireFormatError(`binary ${type}: expected ${length} bytes, got ${bytes.length}`);
  return view(bytes);
}

/**
 * One parameter as text: null stays null (SQL NULL). `typeOid` 0 means the client left the type to the server;
 * a binary value of unknown type is shown as hex.
 */
export function decodeParameter(value: Uint8Array | null, format: FormatCode, typeOid: number): string | null {
  if (value === null) return null;
  if (format === Formats.Text) return utf8(value);
  if (format !== Formats.Binary) throw new WireFormatError(`unsupported format code ${String(format)}`);
  return decodeBinary(value, typeOid);
}

/** A Bind's parameters as text, with the types its Parse declared (`paramTypes` may be shorter than the values). */
export function decodeBindParameters(bind: Bind, paramTypes: readonly number[]): (string | null)[] {
  return bind.params.map((value, index) => decodeParameter(value, formatAt(bind.paramFormats, index), paramTypes[index] ?? 0));
}

function decodeBinary(bytes: Uint8Array, typeOid: number): string {
  switch (typeOid) {
    case TypeOid.bool: {
      const byte = expectLength(bytes, 1, 'bool').getUint8(0);
      // The server's boolrecv takes any non-zero byte as true.
      return byte === 0 ? 'f' : 't';
    }
    case TypeOid.bytea: return byteaHex(bytes);
    case TypeOid.int2: return String(expectLength(bytes, 2, 'int2').getInt16(0));
    case TypeOid.int4: return String(expectLength(bytes, 4, 'int4').getInt32(0));
    case TypeOid.int8: return expectLength(bytes, 8, 'int8').getBigInt64(0).toString();
    case TypeOid.oid: return String(expectLength(bytes, 4, 'oid').getUint32(0));
    case TypeOid.float4: return formatFloat(expectLength(bytes, 4, 'float4').getFloat32(0), 'float4');
    case TypeOid.float8: return formatFloat(expectLength(bytes, 8, 'float8').getFloat64(0), 'float8');
    case TypeOid.text:
    case TypeOid.name:
    case TypeOid.varchar:
    case TypeOid.bpchar:
    case TypeOid.json:
    case TypeOid.xml:
    case TypeOid.unknown:
      return utf8(bytes);
    case TypeOid.jsonb: {
      if (bytes.length < 1) throw new WireFormatError('binary jsonb: empty');
      if (bytes[0] !== 1) throw new WireFormatError(`binary jsonb: unsupported version ${String(bytes[0])}`);
      return utf8(bytes.subarray(1));
    }
    case TypeOid.uuid: {
      expectLength(bytes, 16, 'uuid');
      const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    case TypeOid.date: return formatDate(expectLength(bytes, 4, 'date').getInt32(0));
    case TypeOid.timestamp: return formatTimestamp(expectLength(bytes, 8, 'timestamp').getBigInt64(0), '');
    case TypeOid.timestamptz: return formatTimestamp(expectLength(bytes, 8, 'timestamptz').getBigInt64(0), '+00');
    case TypeOid.numeric: return formatNumeric(bytes);
    default: return byteaHex(bytes);
  }
}

// ---- float4 / float8: the server's shortest round-trip output (extra_float_digits = 1, the default since 12) ----

/** Shortest digits that read back as the same float32 (float8 gets them from the engine's own shortest printing). */
function shortestDigits(value: number, kind: 'float4' | 'float8'): { digits: string; exponent: number } {
  let text = value.toExponential();
  if (kind === 'float4') {
    for (let precision = 1; precision <= 9; precision++) {
      const candidate = value.toExponential(precision - 1);
      if (Math.fround(Number(candidate)) === value) {
        text = candidate;
        break;
      }
    }
  }
  const [mantissa = '0', exponent = '0'] = text.split('e');
  return { digits: mantissa.replace('.', '').replace(/0+$/, '') || '0', exponent: Number(exponent) };
}

/** Fixed notation for decimal exponents -4 ..< 15 (float4: ..< 6), like printf's %g thresholds; else d.ddde±XX. */
export function formatFloat(value: number, kind: 'float4' | 'float8'): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const { digits, exponent } = shortestDigits(Math.abs(value), kind);
  const fixedUpTo = kind === 'float4' ? 6 : 15;
  if (exponent >= -4 && exponent < fixedUpTo) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}`;
    return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0] ?? ''}.${digits.slice(1)}` : digits;
  const magnitude = Math.abs(exponent);
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
}

// ---- date / timestamp: DateStyle ISO, days and microseconds since 2000-01-01 ----

const UNIX_DAYS_AT_PG_EPOCH = 10957;
const DATE_NOBEGIN = -0x80000000;
const DATE_NOEND = 0x7fffffff;
const TIMESTAMP_NOBEGIN = -(2n ** 63n);
const TIMESTAMP_NOEND = 2n ** 63n - 1n;
const MICROS_PER_DAY = 86_400_000_000n;

/** Proleptic Gregorian civil date of a day count since 1970-01-01 (astronomical years: 0 is 1 BC). */
function civilFromDays(unixDays: number): { year: number; month: number; day: number } {
  const z = unixDays + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** "2024-02-29", "0044-03-15 BC"; the suffix is added by the caller for timestamps. */
function formatCivil(pgDays: number): { text: string; bc: boolean } {
  const { year, month, day } = civilFromDays(pgDays + UNIX_DAYS_AT_PG_EPOCH);
  const bc = year <= 0;
  return { text: `${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc };
}

export function formatDate(pgDays: number): string {
  if (pgDays === DATE_NOBEGIN) return '-infinity';
  if (pgDays === DATE_NOEND) return 'infinity';
  const { text, bc } = formatCivil(pgDays);
  return bc ? `${text} BC` : text;
}

/** "2024-05-01 12:30:00.25" (+ "+00" for timestamptz, shown in UTC: the session's TimeZone is not known here). */
export function formatTimestamp(micros: bigint, zone: '' | '+00'): string {
  if (micros === TIMESTAMP_NOBEGIN) return '-infinity';
  if (micros === TIMESTAMP_NOEND) return 'infinity';
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const { text, bc } = formatCivil(Number(days));
  const totalSeconds = Number(rest / 1_000_000n);
  const fraction = Number(rest % 1_000_000n);
  const time = `${pad(Math.floor(totalSeconds / 3600), 2)}:${pad(Math.floor(totalSeconds / 60) % 60, 2)}:${pad(totalSeconds % 60, 2)}`;
  const fractionText = fraction === 0 ? '' : `.${pad(fraction, 6).replace(/0+$/, '')}`;
  return `${text} ${time}${fractionText}${zone}${bc ? ' BC' : ''}`;
}

// ---- numeric: int16 ndigits, int16 weight, uint16 sign, uint16 dscale, ndigits base-10000 digits ----

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
const NUMERIC_DSCALE_MASK = 0x3fff;

/** As the server's numeric_recv + numeric_out: digits past dscale are truncated, and a zero has no sign. */
export function formatNumeric(bytes: Uint8Array): string {
  if (bytes.length < 8) throw new WireFormatError(`binary numeric: ${bytes.length} bytes, header needs 8`);
  const data = view(bytes);
  const ndigits = data.getInt16(0);
  const weight = data.getInt16(2);
  const sign = data.getUint16(4);
  const dscale = data.getUint16(6);
  if (ndigits < 0 || bytes.length !== 8 + 2 * ndigits) {
    throw new WireFormatError(`binary numeric: ${ndigits} digits do not fit ${bytes.length} bytes`);
  }
  if ((dscale & NUMERIC_DSCALE_MASK) !== dscale) throw new WireFormatError(`binary numeric: invalid dscale ${dscale}`);
  switch (sign) {
    case NUMERIC_NAN: return 'NaN';
    case NUMERIC_PINF: return 'Infinity';
    case NUMERIC_NINF: return '-Infinity';
    case NUMERIC_POS:
    case NUMERIC_NEG:
      break;
    default: throw new WireFormatError(`binary numeric: invalid sign 0x${sign.toString(16)}`);
  }
  const digits = new Array<number>(ndigits);
  for (let i = 0; i < ndigits; i++) {
    const digit = data.getInt16(8 + 2 * i);
    if (digit < 0 || digit > 9999) throw new WireFormatError(`binary numeric: invalid digit ${digit}`);
    digits[i] = digit;
  }
  // Integer part: groups 0..weight (groups past the last digit are zero), leading zeros suppressed. Zero runs use
  // repeat(), so a hostile weight of 32767 costs one allocation, not 32767 concatenations.
  let integer = '';
  const lastIntegerDigit = Math.min(weight, ndigits - 1);
  for (let index = 0; index <= lastIntegerDigit; index++) {
    const group = digits[index] as number;
    integer += integer === '' ? (group === 0 ? '' : String(group)) : pad(group, 4);
  }
  if (integer !== '' && weight > lastIntegerDigit) integer += '0000'.repeat(weight - lastIntegerDigit);
  if (integer === '') integer = '0';
  // Fraction: the groups after the point (zero groups before the first digit when weight < -1), truncated to dscale.
  let fraction = weight + 1 < 0 ? '0000'.repeat(Math.min(-(weight + 1), Math.ceil(dscale / 4))) : '';
  for (let index = Math.max(0, weight + 1); index < ndigits && fraction.length < dscale; index++) fraction += pad(digits[index] as number, 4);
  fraction = fraction.padEnd(dscale, '0').slice(0, dscale);
  const isZero = /^0*$/.test(integer) && /^0*$/.test(fraction);
  return `${sign === NUMERIC_NEG && !isZero ? '-' : ''}${integer}${dscale > 0 ? `.${fraction}` : ''}`;
}
