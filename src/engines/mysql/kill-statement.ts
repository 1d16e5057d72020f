// KILL of a connection id the client learned from jitgate's greeting (issue 19 defect 10c). The greeting's id is
// jitgate's own (its server connection is not open yet), so `KILL [QUERY] <conn.threadId>` — pool health checks, ORMs'
// query timeouts, GUI cancel buttons — would reach the server with an id it does not know, or one of another
// connection. The relay asks `routeKill` about every command: a KILL of an id that is a live session of the same
// grant is rewritten to that session's server thread id (a named rewrite, STYLE rule 6); any other id is answered
// with ERR 1094 without reaching the server. Recognised as a whole COM_QUERY text with the SQL tokenizer (comments,
// whitespace and trailing `;` allowed), MariaDB's grammar: KILL [HARD | SOFT] [CONNECTION | QUERY] <integer>; and
// COM_PROCESS_KILL. Other KILL forms (QUERY ID <query id>, USER <name>, an expression) name server-side things and go
// on unchanged.
import { encodeComProcessKill, type ClientCommand } from '../../../protocols/mysql/client-commands.js';
import { mysqlError } from '../../../protocols/mysql/server-errors.js';
import type { ErrFields } from '../../../protocols/mysql/server-results.js';
import { scanSqlTokens } from '../../audit/sql-scan.js';

export interface KillStatement {
  readonly modifier: 'HARD' | 'SOFT' | null;
  /** As written; null is KILL CONNECTION. */
  readonly scope: 'CONNECTION' | 'QUERY' | null;
  readonly threadId: bigint;
}

const DIGITS = /^[0-9]+$/;

/** The KILL statement `sql` is, or undefined when it is something else (another statement, several, another form). */
export function parseKillStatement(sql: string): KillStatement | undefined {
  const tokens = scanSqlTokens(sql, 'mysql');
  let end = tokens.length;
  while (end > 0 && tokens[end - 1]?.kind === 'semicolon') end--;
  const words: string[] = [];
  for (let index = 0; index < end; index++) {
    const token = tokens[index];
    if (token?.kind !== 'word') return undefined;
    words.push(sql.slice(token.start, token.end).toUpperCase());
  }
  let at = 0;
  if (words[at++] !== 'KILL') return undefined;
  const modifier = words[at] === 'HARD' || words[at] === 'SOFT' ? words[at++] as 'HARD' | 'SOFT' : null;
  const scope = words[at] === 'CONNECTION' || words[at] === 'QUERY' ? words[at++] as 'CONNECTION' | 'QUERY' : null;
  const id = words[at++];
  if (id === undefined || !DIGITS.test(id) || at !== words.length) return undefined;
  return { modifier, scope, threadId: BigInt(id) };
}

/** The statement the server gets: the client's KILL, naming `serverThreadId`. */
export function killStatementText(kill: KillStatement, serverThreadId: number): string {
  return ['KILL', kill.modifier, kill.scope, String(serverThreadId)].filter((part) => part !== null).join(' ');
}

/** What the relay does instead of forwarding a KILL as sent. */
export type KillRoute =
  | { readonly type: 'rewrite'; readonly payload: Buffer }
  | { readonly type: 'answer'; readonly err: ErrFields };

/** The server thread behind an advertised connection id, when it is a live session of the client's own grant. */
export type ServerThreadOf = (advertisedId: bigint) => number | undefined;

/**
 * How a command that kills by connection id goes on; undefined for every other command. `payload` is the command's
 * whole payload (a COM_QUERY's attributes, if any, are kept in front of the rewritten text).
 */
export function routeKill(command: ClientCommand, payload: Uint8Array, payloadLength: number, serverThreadOf: ServerThreadOf): KillRoute | undefined {
  if (command.type === 'process_kill') {
    const serverThread = serverThreadOf(BigInt(command.connectionId));
    return serverThread === undefined ? { type: 'answer', err: mysqlError.unknownThread(command.connectionId) }
      : { type: 'rewrite', payload: encodeComProcessKill(serverThread) };
  }
  // A text cut at the audit cap is no KILL anyone sends; it goes on as sent.
  if (command.type !== 'query' || command.sqlTruncated || payload.length !== payloadLength) return undefined;
  const kill = parseKillStatement(command.sql);
  if (kill === undefined) return undefined;
  const serverThread = serverThreadOf(kill.threadId);
  if (serverThread === undefined) return { type: 'answer', err: mysqlError.unknownThread(kill.threadId) };
  const prefix = payload.subarray(0, payloadLength - command.sqlByteLength);
  return { type: 'rewrite', payload: Buffer.concat([prefix, Buffer.from(killStatementText(kill, serverThread), 'utf8')]) };
}
