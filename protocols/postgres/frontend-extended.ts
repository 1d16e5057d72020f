// (F) Extended query protocol: Parse 'P', Bind 'B', Describe 'D', Execute 'E', Close 'C', Sync 'S', Flush 'H'
// (protocol docs §55.2.3, §55.7). Names and SQL become strings (copies, safe to remember by statement name);
// Bind parameter values stay views into the body: decode them (param-decode.ts) or copy them before the body goes.
import { ByteReader } from '../shared/byte-reader.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { type FormatCode, TargetCode } from './codes.js';
import { checkFormatCount, formatAt, readCount, readFormatCodes, readValues } from './wire-read.js';

export type DescribeTarget = 'statement' | 'portal';

export interface Parse {
  readonly type: 'parse';
  /** '' is the unnamed statement. */
  readonly statement: string;
  readonly sql: string;
  /** Parameter type OIDs the client fixed; 0 (or a missing entry) leaves the type to the server. */
  readonly paramTypes: readonly number[];
}

export interface Bind {
  readonly type: 'bind';
  readonly portal: string;
  readonly statement: string;
  /** 0 (all text), 1 (for all) or one per parameter: see `bindParamFormat`. */
  readonly paramFormats: readonly FormatCode[];
  /** Views into the message body; null is SQL NULL. */
  readonly params: readonly (Uint8Array | null)[];
  /** 0 (all text), 1 (for all) or one per result column. */
  readonly resultFormats: readonly FormatCode[];
}

export interface Describe {
  readonly type: 'describe';
  readonly target: DescribeTarget;
  readonly name: string;
}

export interface Execute {
  readonly type: 'execute';
  readonly portal: string;
  /** 0 means no limit; otherwise the server stops with PortalSuspended after this many rows. */
  readonly maxRows: number;
}

export interface Close {
  readonly type: 'close';
  readonly target: DescribeTarget;
  readonly name: string;
}

export interface Sync {
  readonly type: 'sync';
}

export interface Flush {
  readonly type: 'flush';
}

export type ExtendedQueryMessage = Parse | Bind | Describe | Execute | Close | Sync | Flush;

export function decodeParse(body: Uint8Array): Parse {
  const reader = new ByteReader(body);
  const statement = reader.readCString('Parse statement name');
  const sql = reader.readCString('Parse query');
  const count = readCount(reader, 'Parse parameter type count', 4);
  const paramTypes = new Array<number>(count);
  for (let i = 0; i < count; i++) paramTypes[i] = reader.readUint32BE('Parse parameter type');
  reader.expectEnd('Parse');
  return { type: 'parse', statement, sql, paramTypes };
}

export function decodeBind(body: Uint8Array): Bind {
  const reader = new ByteReader(body);
  const portal = reader.readCString('Bind portal name');
  const statement = reader.readCString('Bind statement name');
  const paramFormats = readFormatCodes(reader, 'Bind parameter format');
  const params = readValues(reader, 'Bind parameter');
  checkFormatCount(paramFormats.length, params.length, 'bind message');
  const resultFormats = readFormatCodes(reader, 'Bind result format');
  reader.expectEnd('Bind');
  return { type: 'bind', portal, statement, paramFormats, params, resultFormats };
}

/** The format of parameter `index` of a Bind, applying the 0 / 1 / n rule. */
export function bindParamFormat(bind: Bind, index: number): FormatCode {
  return formatAt(bind.paramFormats, index);
}

function readTarget(reader: ByteReader, message: string): DescribeTarget {
  const code = reader.readUint8(`${message} target`);
  if (code === TargetCode.Statement) return 'statement';
  if (code === TargetCode.Portal) return 'portal';
  throw new WireFormatError(`invalid ${message} target 0x${code.toString(16)}: expected 'S' or 'P'`);
}

export function decodeDescribe(body: Uint8Array): Describe {
  const reader = new ByteReader(body);
  const target = readTarget(reader, 'Describe');
  const name = reader.readCString('Describe name');
  reader.expectEnd('Describe');
  return { type: 'describe', target, name };
}

export function decodeExecute(body: Uint8Array): Execute {
  const reader = new ByteReader(body);
  const portal = reader.readCString('Execute portal name');
  const maxRows = reader.readInt32BE('Execute row limit');
  reader.expectEnd('Execute');
  return { type: 'execute', portal, maxRows };
}

export function decodeClose(body: Uint8Array): Close {
  const reader = new ByteReader(body);
  const target = readTarget(reader, 'Close');
  const name = reader.readCString('Close name');
  reader.expectEnd('Close');
  return { type: 'close', target, name };
}

const SYNC: Sync = Object.freeze({ type: 'sync' });
const FLUSH: Flush = Object.freeze({ type: 'flush' });

export function decodeSync(body: Uint8Array): Sync {
  new ByteReader(body).expectEnd('Sync');
  return SYNC;
}

export function decodeFlush(body: Uint8Array): Flush {
  new ByteReader(body).expectEnd('Flush');
  return FLUSH;
}
