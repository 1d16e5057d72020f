// Every ERR jitgate originates, by intent (STYLE rule 7): engines call these and `encodeErrPacket`, never write an
// errno literal. Codes and SQLSTATEs are the server's own (MariaDB's include/mysqld_error.h / sql_state.h), so
// clients, pools and GUIs react as they would to the database itself; messages keep the server's wording where
// operators grep for it ("Access denied for user …") and name the grant where DESIGN §10 asks for a reason.
import type { ErrFields } from './server-results.js';
import { PacketSequenceError, PacketTooLargeError } from './packet-framer.js';
import type { WireFormatError } from '../shared/wire-format-error.js';

/** ER_* numbers used below, with their SQLSTATE. */
export const ServerErrno = {
  ER_CON_COUNT_ERROR: 1040, // 08004
  ER_HANDSHAKE_ERROR: 1043, // 08S01
  ER_DBACCESS_DENIED_ERROR: 1044, // 42000
  ER_ACCESS_DENIED_ERROR: 1045, // 28000
  ER_UNKNOWN_COM_ERROR: 1047, // 08S01
  ER_NO_SUCH_THREAD: 1094, // HY000
  ER_NET_PACKET_TOO_LARGE: 1153, // 08S01
  ER_NET_PACKETS_OUT_OF_ORDER: 1156, // 08S01
  ER_NET_READ_ERROR: 1158, // 08S01
  ER_NOT_SUPPORTED_YET: 1235, // 42000
  ER_OPTION_PREVENTS_STATEMENT: 1290, // HY000
  ER_QUERY_INTERRUPTED: 1317, // 70100
  ER_MALFORMED_PACKET: 1835, // HY000
  ER_CONNECTION_KILLED: 1927, // 70100
} as const;

const err = (errno: number, sqlState: string, message: string): ErrFields => ({ errno, sqlState, message });

export const mysqlError = {
  /** Wrong token, unknown grant, or a grant that may not log in: identical bytes for all three (DESIGN §3). */
  accessDenied: (user: string, host: string, usingPassword: boolean): ErrFields =>
    err(ServerErrno.ER_ACCESS_DENIED_ERROR, '28000',
      `Access denied for user '${user}'@'${host}' (using password: ${usingPassword ? 'YES' : 'NO'})`),

  /** A database other than the resource's, at login or by COM_INIT_DB. */
  dbAccessDenied: (user: string, database: string, host = '%'): ErrFields =>
    err(ServerErrno.ER_DBACCESS_DENIED_ERROR, '42000', `Access denied for user '${user}'@'${host}' to database '${database}'`),

  /** The session is ended by jitgate (DESIGN §4 step 3); `reason` names why, e.g. "grant g_… expired". */
  connectionKilled: (reason?: string): ErrFields =>
    err(ServerErrno.ER_CONNECTION_KILLED, '70100', reason === undefined ? 'Connection was killed' : `Connection was killed: ${reason}`),
  grantExpired: (grant: string): ErrFields => mysqlError.connectionKilled(`grant ${grant} expired`),
  grantRevoked: (grant: string): ErrFields => mysqlError.connectionKilled(`grant ${grant} was revoked`),

  /** The statement in flight was cancelled (KILL QUERY upstream) — the server's own code for that. */
  queryInterrupted: (): ErrFields => err(ServerErrno.ER_QUERY_INTERRUPTED, '70100', 'Query execution was interrupted'),

  /** KILL of a thread id that is no session of the client's grant, in the server's words (the id as it parses it). */
  unknownThread: (threadId: bigint | number): ErrFields =>
    err(ServerErrno.ER_NO_SUCH_THREAD, 'HY000', `Unknown thread id: ${threadId}`),

  unknownCommand: (): ErrFields => err(ServerErrno.ER_UNKNOWN_COM_ERROR, '08S01', 'Unknown command'),

  packetTooLarge: (): ErrFields =>
    err(ServerErrno.ER_NET_PACKET_TOO_LARGE, '08S01', "Got a packet bigger than 'max_allowed_packet' bytes"),

  packetsOutOfOrder: (): ErrFields => err(ServerErrno.ER_NET_PACKETS_OUT_OF_ORDER, '08S01', 'Got packets out of order'),

  malformedPacket: (): ErrFields => err(ServerErrno.ER_MALFORMED_PACKET, 'HY000', 'Malformed communication packet'),

  /** A handshake jitgate cannot serve (pre-4.1 client, compression requested, SSLRequest without TLS configured). */
  handshakeError: (): ErrFields => err(ServerErrno.ER_HANDSHAKE_ERROR, '08S01', 'Bad handshake'),

  /** COM_CHANGE_USER, replication (COM_BINLOG_DUMP*, COM_REGISTER_SLAVE), LOAD DATA LOCAL INFILE. */
  notSupported: (what: string): ErrFields =>
    err(ServerErrno.ER_NOT_SUPPORTED_YET, '42000', `${what} is not supported through jitgate`),

  /**
   * `audit.on_failure: block` while the audit sink is failing. 1290 "the server is running with an option that
   * prevents this statement" is what a read-only server says: an ordinary statement error, the connection stays up
   * and a retry may succeed — not a connection-class 08xxx that makes pools discard the connection.
   */
  auditUnavailable: (): ErrFields =>
    err(ServerErrno.ER_OPTION_PREVENTS_STATEMENT, 'HY000',
      'The jitgate gateway is running with audit.on_failure=block and its audit sink is unavailable, so it cannot execute this statement'),

  /**
   * The database cannot be reached or refused the lease user, before the client is ready. 1040 carries 08004,
   * "server rejected the establishment of the connection", the SQLSTATE drivers and pools treat as a transient
   * connect failure; the message says what happened instead of the server's "Too many connections".
   */
  upstreamUnavailable: (detail: string): ErrFields =>
    err(ServerErrno.ER_CON_COUNT_ERROR, '08004', `jitgate could not connect to the database: ${detail}`),

  /** The upstream connection broke mid-session (sent if a command is pending, then the client is closed). */
  upstreamLost: (): ErrFields =>
    err(ServerErrno.ER_NET_READ_ERROR, '08S01', 'Got an error reading communication packets from the database'),
} as const;

/** The one mapping from a codec failure to what the client is told before the connection closes. */
export function errorForWireFormat(error: WireFormatError): ErrFields {
  if (error instanceof PacketTooLargeError) return mysqlError.packetTooLarge();
  if (error instanceof PacketSequenceError) return mysqlError.packetsOutOfOrder();
  return mysqlError.malformedPacket();
}
