// Reads MariaDB's general query log in its FILE form (log_output=FILE), as bytes: what the server says each connection
// asked it to do, for the audit fidelity test to diff against jitgate's statement events. The format (MariaDB
// sql/log.cc, MYSQL_QUERY_LOG::write): three header lines, then one entry per command —
//   `YYMMDD HH:MM:SS\t` (or `\t\t` within the same second) · thread id right-aligned in 6 · ' ' · command name · '\t' ·
//   argument · '\n'
// The argument is the command's text as the server received it (COM_QUERY text, Prepare text, Execute with the
// parameter values written into the statement as literals) and may span lines; it ends where the next entry starts.
import { readFile } from 'node:fs/promises';

export interface GeneralLogEntry {
  readonly threadId: number;
  /** MariaDB's command name: 'Connect', 'Query', 'Prepare', 'Execute', 'Init DB', 'Close stmt', 'Quit', … */
  readonly command: string;
  /** Raw argument bytes (an Execute of a BLOB parameter is not UTF-8). */
  readonly argument: Buffer;
}

/** MariaDB's command_name[] entries (sql/sql_parse.cc) that can head an entry. */
const COMMANDS = [
  'Sleep', 'Quit', 'Init DB', 'Query', 'Field List', 'Create DB', 'Drop DB', 'Refresh', 'Shutdown', 'Statistics',
  'Processlist', 'Connect', 'Kill', 'Debug', 'Ping', 'Time', 'Delayed insert', 'Change user', 'Binlog Dump',
  'Table Dump', 'Connect Out', 'Register Slave', 'Prepare', 'Execute', 'Long Data', 'Close stmt', 'Reset stmt',
  'Set option', 'Fetch', 'Daemon', 'Reset connection', 'Bulk_execute', 'Slave_worker', 'Slave_IO', 'Slave_SQL',
] as const;

const ENTRY_HEAD = new RegExp(`^(?:\\d{6} [ \\d]\\d:\\d\\d:\\d\\d\\t|\\t\\t) *(\\d+) (${COMMANDS.join('|')})\\t`);
/** Longest possible entry head, in bytes (time, padding, a 20-digit thread id, the longest name, the tab). */
const HEAD_WINDOW = 64;
const HEADER_LINES = 3;

export function parseGeneralLog(bytes: Buffer): GeneralLogEntry[] {
  const starts: { at: number; body: number; threadId: number; command: string }[] = [];
  let lineStart = 0;
  let line = 0;
  while (lineStart < bytes.length) {
    const newline = bytes.indexOf(0x0a, lineStart);
    const lineEnd = newline === -1 ? bytes.length : newline;
    if (line >= HEADER_LINES) {
      const head = ENTRY_HEAD.exec(bytes.toString('latin1', lineStart, Math.min(lineEnd, lineStart + HEAD_WINDOW)));
      if (head) starts.push({ at: lineStart, body: lineStart + head[0].length, threadId: Number(head[1]), command: head[2] ?? '' });
    }
    line++;
    lineStart = lineEnd + 1;
  }
  return starts.map((start, index) => {
    const next = starts[index + 1]?.at ?? bytes.length;
    // Every entry ends with '\n'; the argument is what lies before it.
    const end = next > start.body && bytes[next - 1] === 0x0a ? next - 1 : next;
    return { threadId: start.threadId, command: start.command, argument: bytes.subarray(start.body, Math.max(start.body, end)) };
  });
}

export async function readGeneralLog(path: string): Promise<GeneralLogEntry[]> {
  return parseGeneralLog(await readFile(path));
}

/**
 * The entries of the connections `user` opened (their 'Connect' entry reads `user@host on db using …`), by thread,
 * each list in log order.
 */
export function entriesByThreadOf(entries: readonly GeneralLogEntry[], user: string): Map<number, GeneralLogEntry[]> {
  const threads = new Map<number, GeneralLogEntry[]>();
  const prefix = `${user}@`;
  for (const entry of entries) {
    if (entry.command === 'Connect') {
      if (entry.argument.toString('utf8').startsWith(prefix)) threads.set(entry.threadId, []);
      else threads.delete(entry.threadId); // a thread id reused by another user's connection
      continue;
    }
    threads.get(entry.threadId)?.push(entry);
  }
  return threads;
}

/**
 * Splits each thread's entries into the server sessions jitgate gave its clients: a parked connection is reset with
 * COM_RESET_CONNECTION (which MariaDB does not log) and a commented USE back to the resource's database, which it
 * does; the next client's session starts after it. Keys are `<thread id>#<n>`.
 */
const JITGATE_RESET = '/* jitgate: server connection reset for reuse */ USE ';

export function serverSessionsOf(threads: ReadonlyMap<number, readonly GeneralLogEntry[]>): { sessions: Map<string, GeneralLogEntry[]>; resets: number } {
  const sessions = new Map<string, GeneralLogEntry[]>();
  let resets = 0;
  for (const [threadId, entries] of threads) {
    let part = 0;
    let current: GeneralLogEntry[] = [];
    sessions.set(`${threadId}#${part}`, current);
    for (const entry of entries) {
      if (entry.command !== 'Query' || !entry.argument.toString('utf8').startsWith(JITGATE_RESET)) {
        current.push(entry);
        continue;
      }
      resets++;
      current = [];
      sessions.set(`${threadId}#${++part}`, current);
    }
  }
  return { sessions, resets };
}
