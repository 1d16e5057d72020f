// (B) The server messages the tap decodes, as one union to switch on exhaustively. Row data (RowDescription,
// DataRow), CopyData and notifications are never decoded here: the tap counts them (FrameScanner `wants`).
import { WireFormatError } from '../shared/wire-format-error.js';
import { type Authentication, decodeAuthentication } from './backend-auth.js';
import { decodeErrorResponse, decodeNoticeResponse, type ErrorResponse, type NoticeResponse } from './backend-error.js';
import {
  type BackendStatusMessage, decodeBackendKeyData, decodeBindComplete, decodeCloseComplete, decodeCommandComplete,
  decodeCopyBothResponse, decodeCopyInResponse, decodeCopyOutResponse, decodeEmptyQueryResponse, decodeNoData,
  decodeParameterStatus, decodeParseComplete, decodePortalSuspended, decodeReadyForQuery,
} from './backend-status.js';
import { BackendCode, describeMessageType, pgLimits } from './codes.js';

export type BackendMessage = BackendStatusMessage | ErrorResponse | NoticeResponse | Authentication;

/** The type bytes decodeBackendMessage understands: a ready-made `wants` list for the server→client tap. */
export const decodableBackendTypes: readonly number[] = Object.freeze([
  BackendCode.CommandComplete, BackendCode.ReadyForQuery, BackendCode.ParameterStatus, BackendCode.BackendKeyData,
  BackendCode.CopyInResponse, BackendCode.CopyOutResponse, BackendCode.CopyBothResponse, BackendCode.EmptyQueryResponse,
  BackendCode.NoData, BackendCode.ParseComplete, BackendCode.BindComplete, BackendCode.CloseComplete,
  BackendCode.PortalSuspended, BackendCode.ErrorResponse, BackendCode.NoticeResponse, BackendCode.Authentication,
]);

export function decodeBackendMessage(type: number, body: Uint8Array): BackendMessage {
  switch (type) {
    case BackendCode.CommandComplete: return decodeCommandComplete(body);
    case BackendCode.ReadyForQuery: return decodeReadyForQuery(body);
    case BackendCode.ParameterStatus: return decodeParameterStatus(body);
    case BackendCode.BackendKeyData: return decodeBackendKeyData(body);
    case BackendCode.CopyInResponse: return decodeCopyInResponse(body);
    case BackendCode.CopyOutResponse: return decodeCopyOutResponse(body);
    case BackendCode.CopyBothResponse: return decodeCopyBothResponse(body);
    case BackendCode.EmptyQueryResponse: return decodeEmptyQueryResponse(body);
    case BackendCode.NoData: return decodeNoData(body);
    case BackendCode.ParseComplete: return decodeParseComplete(body);
    case BackendCode.BindComplete: return decodeBindComplete(body);
    case BackendCode.CloseComplete: return decodeCloseComplete(body);
    case BackendCode.PortalSuspended: return decodePortalSuspended(body);
    case BackendCode.ErrorResponse: return decodeErrorResponse(body);
    case BackendCode.NoticeResponse: return decodeNoticeResponse(body);
    case BackendCode.Authentication: return decodeAuthentication(body);
    default: throw new WireFormatError(`no decoder for backend message type ${describeMessageType(type)}`);
  }
}

/** Per-type caps for the server→client FrameScanner: fixed-size status messages can never be large. */
export const backendTypeLimits: Readonly<Record<number, number>> = Object.freeze({
  [BackendCode.ReadyForQuery]: pgLimits.smallMessageBytes,
  [BackendCode.BackendKeyData]: pgLimits.smallMessageBytes,
  [BackendCode.EmptyQueryResponse]: pgLimits.smallMessageBytes,
  [BackendCode.NoData]: pgLimits.smallMessageBytes,
  [BackendCode.ParseComplete]: pgLimits.smallMessageBytes,
  [BackendCode.BindComplete]: pgLimits.smallMessageBytes,
  [BackendCode.CloseComplete]: pgLimits.smallMessageBytes,
  [BackendCode.PortalSuspended]: pgLimits.smallMessageBytes,
  [BackendCode.CopyDone]: pgLimits.smallMessageBytes,
});
