// (F) Simple query protocol and friends: Query 'Q', Terminate 'X', FunctionCall 'F' (protocol docs §55.7).
// Decoders take the body (after type byte and length) and return readonly values; SQL is decoded to a string
// (a copy), byte payloads stay views into the body.
import { ByteReader } from '../shared/byte-reader.js';
import type { FormatCode } from './codes.js';
import { checkFormatCount, readFormatCode, readFormatCodes, readValues } from './wire-read.js';

export interface Query {
  readonly type: 'query';
  /** May hold several statements separated by semicolons; the server answers each with its own CommandComplete. */
  readonly sql: string;
}

export interface Terminate {
  readonly type: 'terminate';
}

export interface FunctionCall {
  readonly type: 'function_call';
  readonly functionOid: number;
  /** 0 (all text), 1 (for all) or one per argument. */
  readonly argumentFormats: readonly FormatCode[];
  /** Views into the message body; null is SQL NULL. */
  readonly arguments: readonly (Uint8Array | null)[];
  readonly resultFormat: FormatCode;
}

export function decodeQuery(body: Uint8Array): Query {
  const reader = new ByteReader(body);
  const sql = reader.readCString('Query text');
  reader.expectEnd('Query');
  return { type: 'query', sql };
}

export function decodeTerminate(body: Uint8Array): Terminate {
  new ByteReader(body).expectEnd('Terminate');
  return { type: 'terminate' };
}

export function decodeFunctionCall(body: Uint8Array): FunctionCall {
  const reader = new ByteReader(body);
  const functionOid = reader.readUint32BE('FunctionCall function OID');
  const argumentFormats = readFormatCodes(reader, 'FunctionCall argument format');
  const args = readValues(reader, 'FunctionCall argument');
  checkFormatCount(argumentFormats.length, args.length, 'FunctionCall');
  const resultFormat = readFormatCode(reader, 'FunctionCall result format');
  reader.expectEnd('FunctionCall');
  return { type: 'function_call', functionOid, argumentFormats, arguments: args, resultFormat };
}
