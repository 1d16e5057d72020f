// (B) ErrorResponse 'E' and NoticeResponse 'N' (protocol docs §55.8 "Error and Notice Message Fields"): a list of
// (field code byte, String) pairs ended by a zero byte. Decoded for the tap (the statement's SQLSTATE and message),
// encoded for the proxy's own refusals, which always come from sqlstate.ts's named constructors.
import { ByteReader } from '../shared/byte-reader.js';
import { ByteWriter } from '../shared/byte-writer.js';
import { WireFormatError } from '../shared/wire-format-error.js';
import { BackendCode } from './codes.js';
import { finishMessage, startMessage, writeCStringChecked } from './wire-write.js';

export type ErrorSeverity = 'ERROR' | 'FATAL' | 'PANIC';
export type NoticeSeverity = 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';
export type Severity = ErrorSeverity | NoticeSeverity;

const SEVERITIES: ReadonlySet<string> = new Set<Severity>(['ERROR', 'FATAL', 'PANIC', 'WARNING', 'NOTICE', 'DEBUG', 'INFO', 'LOG']);
const isSeverity = (text: string | undefined): text is Severity => text !== undefined && SEVERITIES.has(text);

/** What the proxy says when it refuses or warns; the severity type keeps a FATAL out of a NoticeResponse. */
export interface ErrorFields<S extends Severity = Severity> {
  readonly severity: S;
  /** SQLSTATE, five characters. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

/** Field code bytes; the letter is the key used in `fields`. */
export const ErrorFieldCode = {
  Severity: 0x53, // 'S' (localized)
  SeverityNonLocalized: 0x56, // 'V'
  Code: 0x43, // 'C'
  Message: 0x4d, // 'M'
  Detail: 0x44, // 'D'
  Hint: 0x48, // 'H'
  Position: 0x50, // 'P'
  InternalPosition: 0x70, // 'p'
  InternalQuery: 0x71, // 'q'
  Where: 0x57, // 'W'
  SchemaName: 0x73, // 's'
  TableName: 0x74, // 't'
  ColumnName: 0x63, // 'c'
  DataTypeName: 0x64, // 'd'
  ConstraintName: 0x6e, // 'n'
  File: 0x46, // 'F'
  Line: 0x4c, // 'L'
  Routine: 0x52, // 'R'
} as const;

interface DecodedFields {
  /** From 'V' when present (9.6+), else from 'S' if that is one of the non-localized words; null otherwise. */
  readonly severity: Severity | null;
  readonly code: string;
  readonly message: string;
  /** Every field by its letter ('S', 'V', 'C', 'M', 'D', 'H', 'P', …), null-prototype. Unknown letters are kept. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface ErrorResponse extends DecodedFields {
  readonly type: 'error_response';
}

export interface NoticeResponse extends DecodedFields {
  readonly type: 'notice_response';
}

function decodeFields(body: Uint8Array, message: string): DecodedFields {
  const reader = new ByteReader(body);
  const fields = Object.create(null) as Record<string, string>;
  for (;;) {
    const code = reader.readUint8(`${message} field code`);
    if (code === 0) break;
    const letter = String.fromCharCode(code);
    fields[letter] = reader.readCString(`${message} field '${letter}'`);
  }
  reader.expectEnd(message);
  const severityText = fields['V'] ?? fields['S'];
  const code = fields['C'];
  const text = fields['M'];
  // The protocol docs say S, C and M are always present.
  if (fields['S'] === undefined || code === undefined || text === undefined) {
    throw new WireFormatError(`${message}: missing one of the S, C, M fields`);
  }
  return { severity: isSeverity(severityText) ? severityText : null, code, message: text, fields };
}

export function decodeErrorResponse(body: Uint8Array): ErrorResponse {
  return { type: 'error_response', ...decodeFields(body, 'ErrorResponse') };
}

export function decodeNoticeResponse(body: Uint8Array): NoticeResponse {
  return { type: 'notice_response', ...decodeFields(body, 'NoticeResponse') };
}

function encodeFields(type: number, fields: ErrorFields): Buffer {
  const writer = startMessage(type, 64 + fields.message.length);
  // S (may be localized by a server; ours never is) and V (never localized), as servers since 9.6 send both.
  writer.writeUint8(ErrorFieldCode.Severity);
  writeCStringChecked(writer, fields.severity, 'severity');
  writer.writeUint8(ErrorFieldCode.SeverityNonLocalized);
  writeCStringChecked(writer, fields.severity, 'severity');
  writer.writeUint8(ErrorFieldCode.Code);
  writeCStringChecked(writer, fields.code, 'code');
  writer.writeUint8(ErrorFieldCode.Message);
  writeCStringChecked(writer, fields.message, 'message');
  if (fields.detail !== undefined) {
    writer.writeUint8(ErrorFieldCode.Detail);
    writeCStringChecked(writer, fields.detail, 'detail');
  }
  if (fields.hint !== undefined) {
    writer.writeUint8(ErrorFieldCode.Hint);
    writeCStringChecked(writer, fields.hint, 'hint');
  }
  writer.writeUint8(0);
  return finishMessage(writer);
}

export function encodeErrorResponse(fields: ErrorFields<ErrorSeverity>): Buffer {
  return encodeFields(BackendCode.ErrorResponse, fields);
}

export function encodeNoticeResponse(fields: ErrorFields<NoticeSeverity>): Buffer {
  return encodeFields(BackendCode.NoticeResponse, fields);
}

/**
 * ErrorResponse in protocol 2.0's framing: 'E', then one String "SEVERITY:  message\n", no length word. The server
 * still answers this way to a client whose startup packet asks for a version below 3.0 (elog.c
 * send_message_to_frontend), so the only thing such a client is ever told — that 2.0 is not spoken — is legible to it.
 */
export function encodeErrorResponseV2(fields: ErrorFields<ErrorSeverity>): Buffer {
  const writer = new ByteWriter(16 + fields.message.length).writeUint8(BackendCode.ErrorResponse);
  writeCStringChecked(writer, `${fields.severity}:  ${fields.message}\n`, 'message');
  return writer.toBuffer();
}
