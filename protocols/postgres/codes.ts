// PostgreSQL protocol 3.0 constants (protocol docs §55.7 "Message Formats"). Type bytes are numbers so the frame
// scanner can index a 256-entry table with them; the letter each one stands for is in the comment. The same letter
// means different messages per direction ('D' is Describe from the client, DataRow from the server), so each
// direction has its own map.

/** Type bytes of messages the client (frontend) sends after the startup packet. */
export const FrontendCode = {
  Bind: 0x42, // 'B'
  Close: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyFail: 0x66, // 'f'
  Describe: 0x44, // 'D'
  Execute: 0x45, // 'E'
  Flush: 0x48, // 'H'
  FunctionCall: 0x46, // 'F'
  /** 'p': PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share it; only the auth state tells. */
  PasswordMessage: 0x70, // 'p'
  Parse: 0x50, // 'P'
  Query: 0x51, // 'Q'
  Sync: 0x53, // 'S'
  Terminate: 0x58, // 'X'
} as const;
export type FrontendCode = (typeof FrontendCode)[keyof typeof FrontendCode];

/** Type bytes of messages the server (backend) sends. */
export const BackendCode = {
  Authentication: 0x52, // 'R' (AuthenticationOk, …CleartextPassword, …MD5Password, …SASL, …SASLContinue, …SASLFinal)
  BackendKeyData: 0x4b, // 'K'
  BindComplete: 0x32, // '2'
  CloseComplete: 0x33, // '3'
  CommandComplete: 0x43, // 'C'
  CopyBothResponse: 0x57, // 'W'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyInResponse: 0x47, // 'G'
  CopyOutResponse: 0x48, // 'H'
  DataRow: 0x44, // 'D'
  EmptyQueryResponse: 0x49, // 'I'
  ErrorResponse: 0x45, // 'E'
  FunctionCallResponse: 0x56, // 'V'
  NegotiateProtocolVersion: 0x76, // 'v'
  NoData: 0x6e, // 'n'
  NoticeResponse: 0x4e, // 'N'
  NotificationResponse: 0x41, // 'A'
  ParameterDescription: 0x74, // 't'
  ParameterStatus: 0x53, // 'S'
  ParseComplete: 0x31, // '1'
  PortalSuspended: 0x73, // 's'
  ReadyForQuery: 0x5a, // 'Z'
  RowDescription: 0x54, // 'T'
} as const;
export type BackendCode = (typeof BackendCode)[keyof typeof BackendCode];

/** The int32 that follows 'R' and says which Authentication* message this is. */
export const AuthenticationCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;
export type AuthenticationCode = (typeof AuthenticationCode)[keyof typeof AuthenticationCode];

/** The int32 after the length of an untyped startup-phase packet. */
export const StartupCode = {
  /** Protocol 3.0: major 3 in the high 16 bits, minor 0 in the low 16 bits. */
  ProtocolVersion3: 196608,
  SSLRequest: 80877103, // 1234 << 16 | 5679
  GSSENCRequest: 80877104, // 1234 << 16 | 5680
  CancelRequest: 80877102, // 1234 << 16 | 5678
} as const;

/** Single-byte answers to SSLRequest / GSSENCRequest (not framed: no type, no length). */
export const SslResponseCode = {
  Accept: 0x53, // 'S'
  Refuse: 0x4e, // 'N'
} as const;

/** ReadyForQuery transaction status bytes. */
export const TransactionStatusCode = {
  Idle: 0x49, // 'I'
  InTransaction: 0x54, // 'T'
  Failed: 0x45, // 'E'
} as const;

/** Describe / Close target bytes. */
export const TargetCode = {
  Statement: 0x53, // 'S'
  Portal: 0x50, // 'P'
} as const;

/** Format codes of Bind, FunctionCall and Copy*Response. */
export const FormatCode = {
  Text: 0,
  Binary: 1,
} as const;
export type FormatCode = (typeof FormatCode)[keyof typeof FormatCode];

export const pgLimits = {
  /**
   * A startup packet is length + code at least; the server refuses a body over MAX_STARTUP_PACKET_LENGTH (10000
   * bytes after the length field), so the largest whole packet is 10004 bytes.
   */
  startupMinBytes: 8,
  startupMaxBytes: 10004,
  /** Declared length of a typed message counts itself: 4 is an empty body. */
  messageMinLength: 4,
  /** The server's PQ_SMALL_MESSAGE_LIMIT for control messages (Sync, Execute, Describe, …). */
  smallMessageBytes: 10000,
  /** The server's PG_MAX_AUTH_TOKEN_LENGTH for 'p' messages during authentication. */
  authMessageBytes: 65535,
  /** The server's PQ_LARGE_MESSAGE_LIMIT (MaxAllocSize - 1): the largest message it will ever read. */
  largeMessageBytes: 0x3ffffffe,
} as const;

/** "'Q' (0x51)" for error messages; non-printable bytes as hex only. */
export const describeMessageType = (type: number): string =>
  type >= 0x20 && type < 0x7f ? `'${String.fromCharCode(type)}' (0x${type.toString(16)})` : `0x${type.toString(16).padStart(2, '0')}`;
