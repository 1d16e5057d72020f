// (F) Everything a client may send after authentication, as one union the tap switches on exhaustively. 'p' is
// absent on purpose: it only means something during the auth step (frontend-auth.ts).
import { WireFormatError } from '../shared/wire-format-error.js';
import { describeMessageType, FrontendCode, pgLimits } from './codes.js';
import { type CopyData, type CopyDone, type CopyFail, decodeCopyData, decodeCopyDone, decodeCopyFail } from './frontend-copy.js';
import {
  decodeBind, decodeClose, decodeDescribe, decodeExecute, decodeFlush, decodeParse, decodeSync,
  type ExtendedQueryMessage,
} from './frontend-extended.js';
import { decodeFunctionCall, decodeQuery, decodeTerminate, type FunctionCall, type Query, type Terminate } from './frontend-simple.js';

export type FrontendMessage = Query | Terminate | FunctionCall | ExtendedQueryMessage | CopyData | CopyDone | CopyFail;

/** Decodes a post-auth client message by its type byte; an unknown type is a WireFormatError, as for the server. */
export function decodeFrontendMessage(type: number, body: Uint8Array): FrontendMessage {
  switch (type) {
    case FrontendCode.Query: return decodeQuery(body);
    case FrontendCode.Terminate: return decodeTerminate(body);
    case FrontendCode.FunctionCall: return decodeFunctionCall(body);
    case FrontendCode.Parse: return decodeParse(body);
    case FrontendCode.Bind: return decodeBind(body);
    case FrontendCode.Describe: return decodeDescribe(body);
    case FrontendCode.Execute: return decodeExecute(body);
    case FrontendCode.Close: return decodeClose(body);
    case FrontendCode.Sync: return decodeSync(body);
    case FrontendCode.Flush: return decodeFlush(body);
    case FrontendCode.CopyData: return decodeCopyData(body);
    case FrontendCode.CopyDone: return decodeCopyDone(body);
    case FrontendCode.CopyFail: return decodeCopyFail(body);
    default: throw new WireFormatError(`invalid frontend message type ${describeMessageType(type)}`);
  }
}

/**
 * Per-type caps for the client→server FrameScanner, as the server sets them (postgres.c SocketBackend): control
 * messages get PQ_SMALL_MESSAGE_LIMIT, 'p' the auth token limit; Query, Parse, Bind, FunctionCall and CopyData
 * keep the configured maximum.
 */
export const frontendTypeLimits: Readonly<Record<number, number>> = Object.freeze({
  [FrontendCode.Describe]: pgLimits.smallMessageBytes,
  [FrontendCode.Execute]: pgLimits.smallMessageBytes,
  [FrontendCode.Close]: pgLimits.smallMessageBytes,
  [FrontendCode.Sync]: pgLimits.smallMessageBytes,
  [FrontendCode.Flush]: pgLimits.smallMessageBytes,
  [FrontendCode.Terminate]: pgLimits.smallMessageBytes,
  [FrontendCode.CopyDone]: pgLimits.smallMessageBytes,
  [FrontendCode.PasswordMessage]: pgLimits.authMessageBytes,
});

/**
 * What can still be read of a message whose decoder refused it: up to `count` leading NUL-terminated strings (the
 * names and SQL that open Query, Parse, Bind and Execute), the last one running to the end of the body when its NUL
 * is missing. For the audit only: the server, not the tap, decides whether the message is acceptable.
 */
export function salvageLeadingStrings(body: Uint8Array, count: number): string[] {
  const strings: string[] = [];
  let start = 0;
  while (strings.length < count && start < body.length) {
    let end = body.indexOf(0, start);
    if (end === -1) end = body.length;
    strings.push(Buffer.from(body.buffer, body.byteOffset + start, end - start).toString('utf8'));
    start = end + 1;
  }
  return strings;
}
