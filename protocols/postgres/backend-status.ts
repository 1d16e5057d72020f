// (B) Status messages: decoders for what the tap reads from the server (CommandComplete, ReadyForQuery,
// ParameterStatus, BackendKeyData, Copy*Response and the bodiless acknowledgements) and encoders for the few the
// proxy sends itself while introducing a session (ParameterStatus, the minted BackendKeyData, ReadyForQuery).
// Protocol docs §55.7.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { BackendCode, type FormatCode, TransactionStatusCode } from './codes.js';
import { readCount, readFormatCode } from './wire-read.js';
import { bodiless, finishMessage, startMessage, writeCStringChecked } from './wire-write.js';

export interface CommandComplete {
  readonly type: 'command_complete';
  /** The tag as sent ("INSERT 0 3", "CREATE TABLE"). */
  readonly tag: string;
  /** The tag without its counts ("INSERT", "CREATE TABLE"). */
  readonly command: string;
  /** Rows affected or returned, for the commands whose tag carries a count; null otherwise. */
  readonly rows: number | null;
}

/** 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

export interface ReadyForQuery {
  readonly type: 'ready_for_query';
  readonly status: TransactionStatus;
}

export interface ParameterStatus {
  readonly type: 'parameter_status';
  readonly name: string;
  readonly value: string;
}

export interface BackendKeyData {
  readonly type: 'backend_key_data';
  readonly processId: number;
  readonly secretKey: number;
}

export interface CopyResponse {
  readonly type: 'copy_in_response' | 'copy_out_response' | 'copy_both_response';
  /** Overall format: 0 textual, 1 binary. */
  readonly format: FormatCode;
  readonly columnFormats: readonly FormatCode[];
}

export interface EmptyQueryResponse { readonly type: 'empty_query_response' }
export interface NoData { readonly type: 'no_data' }
export interface ParseComplete { readonly type: 'parse_complete' }
export interface BindComplete { readonly type: 'bind_complete' }
export interface CloseComplete { readonly type: 'close_complete' }
export interface PortalSuspended { readonly type: 'portal_suspended' }

export type BodilessBackendMessage =
  EmptyQueryResponse | NoData | ParseComplete | BindComplete | CloseComplete | PortalSuspended;

export type BackendStatusMessage =
  CommandComplete | ReadyForQuery | ParameterStatus | BackendKeyData | CopyResponse | BodilessBackendMessage;

/** Commands whose tag ends in a row count (INSERT has the legacy OID before it). */
const ROW_COUNT_COMMANDS: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE', 'SELECT', 'MOVE', 'FETCH', 'COPY', 'MERGE']);
const DIGITS = /^[0-9]{1,20}$/;

/** Splits a command tag into the command and its row count; tags are free text otherwise, so nothing here throws. */
export function parseCommandTag(tag: string): { readonly command: string; readonly rows: number | null } {
  const space = tag.indexOf(' ');
  const first = space < 0 ? tag : tag.slice(0, space);
  if (space < 0 || !ROW_COUNT_COMMANDS.has(first)) return { command: tag, rows: null };
  const counts = tag.slice(space + 1).split(' ');
  const expected = first === 'INSERT' ? 2 : 1;
  const last = counts[counts.length - 1];
  if (counts.length !== expected || last === undefined || !counts.every((part) => DIGITS.test(part))) {
    return { command: tag, rows: null };
  }
  return { command: first, rows: Number(last) };
}

export function decodeCommandComplete(body: Uint8Array): CommandComplete {
  const reader = new ByteReader(body);
  const tag = reader.readCString('CommandComplete tag');
  reader.expectEnd('CommandComplete');
  const { command, rows } = parseCommandTag(tag);
  return { type: 'command_complete', tag, command, rows };
}

export function decodeReadyForQuery(body: Uint8Array): ReadyForQuery {
  const reader = new ByteReader(body);
  const status = reader.readUint8('ReadyForQuery status');
  reader.expectEnd('ReadyForQuery');
  switch (status) {
    case TransactionStatusCode.Idle: return READY_IDLE;
    case TransactionStatusCode.InTransaction: return READY_IN_TRANSACTION;
    case TransactionStatusCode.Failed: return READY_FAILED;
    default: throw new WireFormatError(`ReadyForQuery: invalid transaction status 0x${status.toString(16)}`);
  }
}

const READY_IDLE: ReadyForQuery = Object.freeze({ type: 'ready_for_query', status: 'I' });
const READY_IN_TRANSACTION: ReadyForQuery = Object.freeze({ type: 'ready_for_query', status: 'T' });
const READY_FAILED: ReadyForQuery = Object.freeze({ type: 'ready_for_query', status: 'E' });

export function decodeParameterStatus(body: Uint8Array): ParameterStatus {
  const reader = new ByteReader(body);
  const name = reader.readCString('ParameterStatus name');
  const value = reader.readCString('ParameterStatus value');
  reader.expectEnd('ParameterStatus');
  return { type: 'parameter_status', name, value };
}

export function decodeBackendKeyData(body: Uint8Array): BackendKeyData {
  const reader = new ByteReader(body);
  const processId = reader.readInt32BE('BackendKeyData process id');
  const secretKey = reader.readInt32BE('BackendKeyData secret key');
  reader.expectEnd('BackendKeyData');
  return { type: 'backend_key_data', processId, secretKey };
}

function decodeCopyResponse(type: CopyResponse['type'], message: string, body: Uint8Array): CopyResponse {
  const reader = new ByteReader(body);
  const overall = reader.readUint8(`${message} format`);
  if (overall !== 0 && overall !== 1) throw new WireFormatError(`${message}: invalid overall format ${overall}`);
  const count = readCount(reader, `${message} column count`, 2);
  const columnFormats = new Array<FormatCode>(count);
  for (let i = 0; i < count; i++) columnFormats[i] = readFormatCode(reader, `${message} column format`);
  reader.expectEnd(message);
  return { type, format: overall, columnFormats };
}

export const decodeCopyInResponse = (body: Uint8Array): CopyResponse => decodeCopyResponse('copy_in_response', 'CopyInResponse', body);
export const decodeCopyOutResponse = (body: Uint8Array): CopyResponse => decodeCopyResponse('copy_out_response', 'CopyOutResponse', body);
export const decodeCopyBothResponse = (body: Uint8Array): CopyResponse => decodeCopyResponse('copy_both_response', 'CopyBothResponse', body);

function bodilessDecoder<M extends BodilessBackendMessage>(value: M, message: string): (body: Uint8Array) => M {
  const frozen = Object.freeze(value);
  return (body) => {
    new ByteReader(body).expectEnd(message);
    return frozen;
  };
}

export const decodeEmptyQueryResponse = bodilessDecoder<EmptyQueryResponse>({ type: 'empty_query_response' }, 'EmptyQueryResponse');
export const decodeNoData = bodilessDecoder<NoData>({ type: 'no_data' }, 'NoData');
export const decodeParseComplete = bodilessDecoder<ParseComplete>({ type: 'parse_complete' }, 'ParseComplete');
export const decodeBindComplete = bodilessDecoder<BindComplete>({ type: 'bind_complete' }, 'BindComplete');
export const decodeCloseComplete = bodilessDecoder<CloseComplete>({ type: 'close_complete' }, 'CloseComplete');
export const decodePortalSuspended = bodilessDecoder<PortalSuspended>({ type: 'portal_suspended' }, 'PortalSuspended');

// ---- encoders (the proxy's own introduction of a session) ----

export function encodeParameterStatus(name: string, value: string): Buffer {
  const writer = startMessage(BackendCode.ParameterStatus, 16 + name.length + value.length);
  writeCStringChecked(writer, name, 'ParameterStatus name');
  writeCStringChecked(writer, value, 'ParameterStatus value');
  return finishMessage(writer);
}

/** The proxy-minted key the client will quote in a CancelRequest (never the upstream's, DESIGN §10). */
export function encodeBackendKeyData(processId: number, secretKey: number): Buffer {
  return new ByteWriter(13).writeUint8(BackendCode.BackendKeyData).writeInt32BE(12)
    .writeInt32BE(processId | 0).writeInt32BE(secretKey | 0).toBuffer();
}

const readyForQuery = (status: number): Buffer => Buffer.from([BackendCode.ReadyForQuery, 0, 0, 0, 5, status]);

/** Shared constants: never write into them. */
export const READY_FOR_QUERY_IDLE = readyForQuery(TransactionStatusCode.Idle);
export const READY_FOR_QUERY_IN_TRANSACTION = readyForQuery(TransactionStatusCode.InTransaction);
export const READY_FOR_QUERY_FAILED = readyForQuery(TransactionStatusCode.Failed);

export function encodeReadyForQuery(status: TransactionStatus): Buffer {
  switch (status) {
    case 'I': return READY_FOR_QUERY_IDLE;
    case 'T': return READY_FOR_QUERY_IN_TRANSACTION;
    case 'E': return READY_FOR_QUERY_FAILED;
  }
}

export const EMPTY_QUERY_RESPONSE = bodiless(BackendCode.EmptyQueryResponse);
export const NO_DATA = bodiless(BackendCode.NoData);
export const PARSE_COMPLETE = bodiless(BackendCode.ParseComplete);
export const BIND_COMPLETE = bodiless(BackendCode.BindComplete);
export const CLOSE_COMPLETE = bodiless(BackendCode.CloseComplete);
export const PORTAL_SUSPENDED = bodiless(BackendCode.PortalSuspended);

/**
 * NegotiateProtocolVersion: the answer the server gives a client that asked for 3.x (x > 0) or sent `_pq_.`
 * options: "I speak 3.`newestMinor`; these options I do not know". The session then continues in 3.0.
 */
export function encodeNegotiateProtocolVersion(newestMinor: number, unrecognizedOptions: readonly string[]): Buffer {
  const writer = startMessage(BackendCode.NegotiateProtocolVersion, 32).writeInt32BE(newestMinor).writeInt32BE(unrecognizedOptions.length);
  for (const option of unrecognizedOptions) writeCStringChecked(writer, option, 'NegotiateProtocolVersion option');
  return finishMessage(writer);
}
