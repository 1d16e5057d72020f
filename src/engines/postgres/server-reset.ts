// The Postgres reset of a server connection before it is parked (src/net/server-pool.ts): DISCARD ALL, as pgbouncer's
// server_reset_query in session mode, with the ParameterStatus values it reports merged into what the next client
// is told.
import type { Socket } from 'node:net';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { resetExchange } from '../../net/server-pool.js';
import { sharedParameterStatus, type UpstreamSession } from './upstream.js';

const RESET_TIMEOUT_MS = 2_000;

export async function resetPostgresServer(upstream: UpstreamSession): Promise<UpstreamSession | undefined> {
  const parameterStatus = await discardAll(upstream.socket, RESET_TIMEOUT_MS);
  if (parameterStatus === undefined) return undefined;
  const merged = new Map(upstream.parameterStatus);
  for (const [name, value] of parameterStatus) merged.set(name, value);
  return { ...upstream, parameterStatus: sharedParameterStatus([...merged]) };
}

/**
 * Sends DISCARD ALL and reads to ReadyForQuery('I'): the ParameterStatus values the reset reported, or undefined when
 * the server answered anything else (an error, a notification, bytes past ReadyForQuery) or not in time.
 */
function discardAll(socket: Socket, timeoutMs: number): Promise<Map<string, string> | undefined> {
  const parser = new Parser();
  const reported = new Map<string, string>();
  let completed = false;
  // Set at ReadyForQuery: its verdict, which a message after it in the same chunk overturns.
  let verdict: boolean | undefined;
  const onMessage = (message: BackendMessage): void => {
    const fields = message as BackendMessage & Record<string, unknown>;
    if (verdict !== undefined) verdict = false;
    else if (message.name === 'commandComplete') completed = fields.text === 'DISCARD ALL';
    else if (message.name === 'parameterStatus') reported.set(String(fields.parameterName), String(fields.parameterValue));
    else if (message.name === 'readyForQuery') verdict = completed && fields.status === 'I';
    else if (message.name !== 'notice') verdict = false; // anything else means the connection is not clean
  };
  return resetExchange(socket, serialize.query('DISCARD ALL'), timeoutMs, (chunk) => {
    try {
      parser.parse(chunk, onMessage);
    } catch {
      verdict = false;
    }
    return verdict === undefined ? undefined : { result: verdict ? reported : undefined };
  });
}
