// MySQL / MariaDB protocol codes, named as in the protocol docs (dev.mysql.com "Capabilities Flags", "Text Protocol",
// mariadb.com/kb "Connection" and "Result Set Packets") so code greps by the words in the documentation.

/** Capability flags: the 32 bits of HandshakeV10 (lower + upper halves) and of HandshakeResponse41. */
export const CapabilityFlag = {
  /** MySQL: new (4.1) password hashing. MariaDB reuses bit 0 as CLIENT_MYSQL: clear means "MariaDB extensions". */
  CLIENT_LONG_PASSWORD: 0x1,
  CLIENT_FOUND_ROWS: 0x2,
  CLIENT_LONG_FLAG: 0x4,
  CLIENT_CONNECT_WITH_DB: 0x8,
  CLIENT_NO_SCHEMA: 0x10,
  CLIENT_COMPRESS: 0x20,
  CLIENT_ODBC: 0x40,
  /** LOAD DATA LOCAL INFILE: jitgate clears it on both legs (DESIGN §3). */
  CLIENT_LOCAL_FILES: 0x80,
  CLIENT_IGNORE_SPACE: 0x100,
  CLIENT_PROTOCOL_41: 0x200,
  CLIENT_INTERACTIVE: 0x400,
  CLIENT_SSL: 0x800,
  CLIENT_IGNORE_SIGPIPE: 0x1000,
  CLIENT_TRANSACTIONS: 0x2000,
  CLIENT_RESERVED: 0x4000,
  /** "CLIENT_RESERVED2" in MySQL 8 headers: 4.1 authentication (1-byte length-prefixed auth response). */
  CLIENT_SECURE_CONNECTION: 0x8000,
  CLIENT_MULTI_STATEMENTS: 0x10000,
  CLIENT_MULTI_RESULTS: 0x20000,
  CLIENT_PS_MULTI_RESULTS: 0x40000,
  CLIENT_PLUGIN_AUTH: 0x80000,
  CLIENT_CONNECT_ATTRS: 0x100000,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS: 0x400000,
  CLIENT_SESSION_TRACK: 0x800000,
  CLIENT_DEPRECATE_EOF: 0x1000000,
  /** MySQL 8: a metadata_follows byte after the column count (and in COM_STMT_PREPARE_OK). */
  CLIENT_OPTIONAL_RESULTSET_METADATA: 0x2000000,
  CLIENT_ZSTD_COMPRESSION_ALGORITHM: 0x4000000,
  /** MySQL 8.0.23+: COM_QUERY / COM_STMT_EXECUTE carry named query attributes. MariaDB never sets it. */
  CLIENT_QUERY_ATTRIBUTES: 0x8000000,
  MULTI_FACTOR_AUTHENTICATION: 0x10000000,
  CLIENT_CAPABILITY_EXTENSION: 0x20000000,
  CLIENT_SSL_VERIFY_SERVER_CERT: 0x40000000,
  CLIENT_REMEMBER_OPTIONS: 0x80000000,
} as const;

/** MariaDB's name for bit 0: a MariaDB server and client clear it to say the extended capability word is present. */
export const CLIENT_MYSQL = CapabilityFlag.CLIENT_LONG_PASSWORD;

/**
 * MariaDB extended capabilities. MariaDB defines them as bits 32..37 of a 64-bit word (MARIADB_CLIENT_PROGRESS =
 * 1 << 32, …); on the wire they are a separate 32-bit field (HandshakeV10's last 4 reserved bytes, HandshakeResponse41's
 * last 4 filler bytes), present only when CLIENT_MYSQL is clear. Values here are bits of that 32-bit field.
 */
export const MariadbCapabilityFlag = {
  /** Progress reports: ERR packets with errno 0xffff during a long command. */
  MARIADB_CLIENT_PROGRESS: 0x1,
  /** Deprecated; kept for the bit position. */
  MARIADB_CLIENT_COM_MULTI: 0x2,
  MARIADB_CLIENT_STMT_BULK_OPERATIONS: 0x4,
  /** Column definitions carry an extended type info block (type name / format) after org_name. */
  MARIADB_CLIENT_EXTENDED_METADATA: 0x8,
  /** A "metadata follows" byte after every column count; 0 means the column definitions are skipped. */
  MARIADB_CLIENT_CACHE_METADATA: 0x10,
  MARIADB_CLIENT_BULK_UNIT_RESULTS: 0x20,
} as const;

/** Command bytes: the first payload byte of every command-phase packet from the client. */
export const Command = {
  COM_SLEEP: 0x00,
  COM_QUIT: 0x01,
  COM_INIT_DB: 0x02,
  COM_QUERY: 0x03,
  COM_FIELD_LIST: 0x04,
  COM_CREATE_DB: 0x05,
  COM_DROP_DB: 0x06,
  COM_REFRESH: 0x07,
  COM_SHUTDOWN: 0x08,
  COM_STATISTICS: 0x09,
  COM_PROCESS_INFO: 0x0a,
  COM_CONNECT: 0x0b,
  COM_PROCESS_KILL: 0x0c,
  COM_DEBUG: 0x0d,
  COM_PING: 0x0e,
  COM_TIME: 0x0f,
  COM_DELAYED_INSERT: 0x10,
  COM_CHANGE_USER: 0x11,
  COM_BINLOG_DUMP: 0x12,
  COM_TABLE_DUMP: 0x13,
  COM_CONNECT_OUT: 0x14,
  COM_REGISTER_SLAVE: 0x15,
  COM_STMT_PREPARE: 0x16,
  COM_STMT_EXECUTE: 0x17,
  COM_STMT_SEND_LONG_DATA: 0x18,
  COM_STMT_CLOSE: 0x19,
  COM_STMT_RESET: 0x1a,
  COM_SET_OPTION: 0x1b,
  COM_STMT_FETCH: 0x1c,
  COM_DAEMON: 0x1d,
  COM_BINLOG_DUMP_GTID: 0x1e,
  COM_RESET_CONNECTION: 0x1f,
  /** MySQL 8 clone plugin. */
  COM_CLONE: 0x20,
  /** MariaDB: array binding (one packet, many parameter sets). */
  COM_STMT_BULK_EXECUTE: 0xfa,
} as const;

const COMMAND_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Command).map(([name, code]) => [code, name]));

/** "COM_QUERY" for 0x03; `COM_0x30` for a byte no server defines (logs and audit text, never dispatch). */
export function commandName(code: number): string {
  return COMMAND_NAMES.get(code) ?? `COM_0x${code.toString(16).padStart(2, '0')}`;
}

/** Column / parameter types (`enum_field_types`). The binary protocol encodes each value by this type. */
export const ColumnType = {
  MYSQL_TYPE_DECIMAL: 0x00,
  MYSQL_TYPE_TINY: 0x01,
  MYSQL_TYPE_SHORT: 0x02,
  MYSQL_TYPE_LONG: 0x03,
  MYSQL_TYPE_FLOAT: 0x04,
  MYSQL_TYPE_DOUBLE: 0x05,
  MYSQL_TYPE_NULL: 0x06,
  MYSQL_TYPE_TIMESTAMP: 0x07,
  MYSQL_TYPE_LONGLONG: 0x08,
  MYSQL_TYPE_INT24: 0x09,
  MYSQL_TYPE_DATE: 0x0a,
  MYSQL_TYPE_TIME: 0x0b,
  MYSQL_TYPE_DATETIME: 0x0c,
  MYSQL_TYPE_YEAR: 0x0d,
  MYSQL_TYPE_NEWDATE: 0x0e,
  MYSQL_TYPE_VARCHAR: 0x0f,
  MYSQL_TYPE_BIT: 0x10,
  MYSQL_TYPE_TIMESTAMP2: 0x11,
  MYSQL_TYPE_DATETIME2: 0x12,
  MYSQL_TYPE_TIME2: 0x13,
  MYSQL_TYPE_TYPED_ARRAY: 0x14,
  MYSQL_TYPE_VECTOR: 0xf2,
  MYSQL_TYPE_JSON: 0xf5,
  MYSQL_TYPE_NEWDECIMAL: 0xf6,
  MYSQL_TYPE_ENUM: 0xf7,
  MYSQL_TYPE_SET: 0xf8,
  MYSQL_TYPE_TINY_BLOB: 0xf9,
  MYSQL_TYPE_MEDIUM_BLOB: 0xfa,
  MYSQL_TYPE_LONG_BLOB: 0xfb,
  MYSQL_TYPE_BLOB: 0xfc,
  MYSQL_TYPE_VAR_STRING: 0xfd,
  MYSQL_TYPE_STRING: 0xfe,
  MYSQL_TYPE_GEOMETRY: 0xff,
} as const;

/** Column definition flags (a subset: what audit or the binary protocol cares about). */
export const ColumnFlag = {
  NOT_NULL_FLAG: 0x1,
  PRI_KEY_FLAG: 0x2,
  UNIQUE_KEY_FLAG: 0x4,
  MULTIPLE_KEY_FLAG: 0x8,
  BLOB_FLAG: 0x10,
  UNSIGNED_FLAG: 0x20,
  ZEROFILL_FLAG: 0x40,
  BINARY_FLAG: 0x80,
  ENUM_FLAG: 0x100,
  AUTO_INCREMENT_FLAG: 0x200,
  TIMESTAMP_FLAG: 0x400,
  SET_FLAG: 0x800,
} as const;

/** The parameter-type flag byte in COM_STMT_EXECUTE: bit 7 marks an unsigned integer. */
export const PARAM_UNSIGNED_FLAG = 0x80;

/** Server status flags (OK, EOF and HandshakeV10). */
export const ServerStatus = {
  SERVER_STATUS_IN_TRANS: 0x1,
  SERVER_STATUS_AUTOCOMMIT: 0x2,
  /** Another result follows (multi-statement COM_QUERY, CALL). */
  SERVER_MORE_RESULTS_EXISTS: 0x8,
  SERVER_QUERY_NO_GOOD_INDEX_USED: 0x10,
  SERVER_QUERY_NO_INDEX_USED: 0x20,
  /** COM_STMT_EXECUTE opened a cursor: rows come from COM_STMT_FETCH. */
  SERVER_STATUS_CURSOR_EXISTS: 0x40,
  SERVER_STATUS_LAST_ROW_SENT: 0x80,
  SERVER_STATUS_DB_DROPPED: 0x100,
  SERVER_STATUS_NO_BACKSLASH_ESCAPES: 0x200,
  SERVER_STATUS_METADATA_CHANGED: 0x400,
  SERVER_QUERY_WAS_SLOW: 0x800,
  SERVER_PS_OUT_PARAMS: 0x1000,
  SERVER_STATUS_IN_TRANS_READONLY: 0x2000,
  SERVER_SESSION_STATE_CHANGED: 0x4000,
} as const;

/** COM_STMT_EXECUTE flags (`enum_cursor_type`). */
export const CursorType = {
  CURSOR_TYPE_NO_CURSOR: 0x0,
  CURSOR_TYPE_READ_ONLY: 0x1,
  CURSOR_TYPE_FOR_UPDATE: 0x2,
  CURSOR_TYPE_SCROLLABLE: 0x4,
  /** MySQL 8 with CLIENT_QUERY_ATTRIBUTES: a parameter count follows even for a statement without parameters. */
  PARAMETER_COUNT_AVAILABLE: 0x8,
} as const;

/** COM_SET_OPTION values. */
export const SetOption = {
  MYSQL_OPTION_MULTI_STATEMENTS_ON: 0,
  MYSQL_OPTION_MULTI_STATEMENTS_OFF: 1,
} as const;

/** Collation ids for the 1-byte charset field of the handshake (the commonest few). */
export const Charset = {
  latin1_swedish_ci: 8,
  utf8mb3_general_ci: 33,
  utf8mb4_general_ci: 45,
  utf8mb4_bin: 46,
  binary: 63,
  utf8mb4_unicode_ci: 224,
  /** MySQL 8's default; MariaDB servers do not know it. */
  utf8mb4_0900_ai_ci: 255,
} as const;

export const AuthPlugin = {
  mysql_native_password: 'mysql_native_password',
  caching_sha2_password: 'caching_sha2_password',
  mysql_clear_password: 'mysql_clear_password',
} as const;

/** Both supported plugins use a 20-byte scramble (nonce). */
export const SCRAMBLE_LENGTH = 20;

/** A frame carries at most 2^24 − 1 payload bytes; a frame of exactly this size means another frame follows. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

/** MariaDB COM_STMT_EXECUTE may name this id: "the statement prepared last" (pipelined prepare + execute). */
export const MARIADB_LAST_STATEMENT_ID = 0xffffffff;

/** MariaDB progress reports travel as ERR packets with this errno (only with MARIADB_CLIENT_PROGRESS). */
export const PROGRESS_REPORT_ERRNO = 0xffff;

export const hasFlag = (flags: number, flag: number): boolean => (flags & flag) !== 0;
