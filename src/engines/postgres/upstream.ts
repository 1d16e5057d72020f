// Step 5 of a Postgres session: log in to the real database as the lease user. pg-protocol parses the backend's
// handshake messages; after ReadyForQuery the raw socket is handed to the relay and pg-protocol is out of the way.
import { createHash, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connectTcp as connectNet } from '../../net/connect.js';
import { connect as tlsConnect } from 'node:tls';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import type { ErrorFields } from '../../../protocols/postgres/backend-error.js';
import { scramClientFinal, scramClientFirst, scramServerFinalValid } from '../../../protocols/postgres/scram-client.js';
import { SqlState } from '../../../protocols/postgres/sqlstate.js';
import type { ResourceConfig } from '../../config/schema.js';
import { saltedPasswordFor } from './upstream-scram.js';
import { upstreamTlsOptional, upstreamTlsOptions } from '../../net/tls.js';
import { UpstreamFailure } from '../../session/upstream-failure.js';


export interface UpstreamLogin {
  readonly resource: ResourceConfig;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Startup parameters from the client worth passing on (application_name, DateStyle, options, …). */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface UpstreamSession {
  readonly socket: Socket;
  readonly tls: boolean;
  /** ParameterStatus pairs in the order the server sent them, relayed to the client verbatim. */
  readonly parameterStatus: readonly (readonly [string, string])[];
  readonly processId: number;
  readonly secretKey: number;
}

/**
 * The upstream login failed. `serverAnswer` is set when the database itself refused (its ErrorResponse): the client
 * is told exactly that, since it is the server's answer about the lease user (e.g. 28000 "role … is not permitted to
 * log in"). Without it the failure was no answer at all (refused, timed out, TLS) and the client hears 08006.
 */
export class UpstreamError extends UpstreamFailure {
  constructor(message: string, readonly code: string | undefined, readonly severity: string | undefined,
    readonly serverAnswer?: ErrorFields<'FATAL'>) {
    super(message);
    this.name = 'UpstreamError';
  }

  /**
   * The database does not take the lease user's password, or does not know the role: the user was dropped or
   * changed behind jitgate's back, and a re-issued lease may work (with SCRAM the server says 28P01 either way).
   */
  override get rejectsLease(): boolean {
    const answer = this.serverAnswer;
    if (answer === undefined) return false;
    return answer.code === SqlState.invalidPassword
      || (answer.code === SqlState.invalidAuthorizationSpecification && /^role ".*" does not exist$/.test(answer.message));
  }
}

/** The server's own ErrorResponse for the client, with anything resembling the lease password taken out. */
export function serverAnswerOf(fields: Record<string, unknown>, password: string): ErrorFields<'FATAL'> {
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value.split(password).join('[redacted]') : undefined);
  const code = typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code) ? fields.code : SqlState.connectionFailure;
  const detail = text(fields.detail);
  const hint = text(fields.hint);
  return {
    severity: 'FATAL', code, message: text(fields.message) ?? 'upstream refused the login',
    ...(detail === undefined ? {} : { detail }), ...(hint === undefined ? {} : { hint }),
  };
}

function connectTcp(host: string, port: number, signal: AbortSignal, plainTcp = false): Promise<Socket> {
  return connectNet(host, port, signal, { reuseReadBuffer: plainTcp }).catch((error: unknown) => {
    throw new UpstreamError(error instanceof Error ? error.message : String(error), '08006', 'FATAL');
  });
}

function readOneByte(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      socket.off('error', onError);
      socket.off('data', onData);
      socket.pause();
      // A server answers SSLRequest with exactly one byte; anything more is a protocol violation (CVE-2021-23222).
      if (chunk.length !== 1) reject(new UpstreamError('upstream sent unexpected bytes after SSLRequest', '08P01', 'FATAL'));
      else resolve(chunk[0] as number);
    };
    const onError = (error: Error): void => reject(new UpstreamError(`upstream TLS negotiation failed: ${error.message}`, '08006', 'FATAL'));
    socket.on('data', onData);
    socket.once('error', onError);
  });
}

async function negotiateTls(socket: Socket, resource: ResourceConfig): Promise<{ socket: Socket; tls: boolean }> {
  const options = upstreamTlsOptions(resource);
  if (!options) return { socket, tls: false };
  socket.write(serialize.requestSsl());
  const answer = await readOneByte(socket);
  if (answer === 0x4e /* N */) {
    if (upstreamTlsOptional(resource.tls.mode)) return { socket, tls: false };
    socket.destroy();
    throw new UpstreamError(`resource ${resource.name} requires TLS (tls.mode ${resource.tls.mode}) but the server does not offer it`, '08004', 'FATAL');
  }
  if (answer !== 0x53 /* S */) throw new UpstreamError('upstream answered SSLRequest with neither S nor N', '08P01', 'FATAL');
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ ...options, socket });
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve({ socket: secure, tls: true });
    });
    const onError = (error: Error): void => {
      secure.destroy();
      reject(new UpstreamError(`TLS to ${resource.name} failed: ${error.message}`, '08006', 'FATAL'));
    };
    secure.once('error', onError);
  });
}

/** Distinct ParameterStatus lists kept for sharing; past this, lists are simply not shared. */
const MAX_SHARED_PARAMETER_LISTS = 256;
const sharedParameterLists = new Map<string, readonly (readonly [string, string])[]>();

/**
 * The server's ParameterStatus list, as one object shared by every session that got the same list (almost all of
 * them: same server, same client settings), so an idle session does not keep ~15 pairs of strings of its own.
 */
export function sharedParameterStatus(list: readonly (readonly [string, string])[]): readonly (readonly [string, string])[] {
  const key = list.map(([name, value]) => `${name}\0${value}`).join('\0\0');
  const shared = sharedParameterLists.get(key);
  if (shared !== undefined) return shared;
  if (sharedParameterLists.size < MAX_SHARED_PARAMETER_LISTS) sharedParameterLists.set(key, list);
  return list;
}

const md5Hex = (text: string | Buffer): string => createHash('md5').update(text).digest('hex');

/** Runs the startup/auth exchange and resolves at ReadyForQuery with what the client must be told. */
function login(socket: Socket, tls: boolean, request: UpstreamLogin): Promise<UpstreamSession> {
  return new Promise((resolve, reject) => {
    const parser = new Parser();
    const parameterStatus: (readonly [string, string])[] = [];
    let processId = 0;
    let secretKey = 0;
    let scram: { first: ReturnType<typeof scramClientFirst>; final?: ReturnType<typeof scramClientFinal> } | undefined;
    let settled = false;

    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        socket.pause();
        resolve({ socket, tls, parameterStatus: sharedParameterStatus(parameterStatus), processId, secretKey });
      }
    };

    const onMessage = (message: BackendMessage): void => {
      const fields = message as BackendMessage & Record<string, unknown>;
      switch (message.name) {
        case 'authenticationCleartextPassword':
          socket.write(serialize.password(request.password));
          return;
        case 'authenticationMD5Password': {
          const salt = fields.salt as Buffer;
          socket.write(serialize.password(`md5${md5Hex(Buffer.concat([Buffer.from(md5Hex(request.password + request.user)), salt]))}`));
          return;
        }
        case 'authenticationSASL': {
          const mechanisms = Array.isArray(fields.mechanisms) ? (fields.mechanisms as string[]) : [];
          if (!mechanisms.includes('SCRAM-SHA-256')) return finish(new UpstreamError(`upstream offers no supported SASL mechanism (${mechanisms.join(', ')})`, '28000', 'FATAL'));
          scram = { first: scramClientFirst(randomBytes(18).toString('base64')) };
          socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.first.message));
          return;
        }
        case 'authenticationSASLContinue': {
          const exchange = scram;
          if (!exchange) return finish(new UpstreamError('upstream sent SASLContinue out of order', '08P01', 'FATAL'));
          const serverFirst = String(fields.data);
          // The server says nothing until the client-final-message, so deriving the key asynchronously is safe.
          saltedPasswordFor(request.user, request.password, serverFirst).then((salted) => {
            exchange.final = scramClientFinal(exchange.first, serverFirst, request.password, salted ? () => salted : undefined);
            socket.write(serialize.sendSCRAMClientFinalMessage(exchange.final.message));
          }).catch((error: unknown) => finish(new UpstreamError(`upstream SCRAM failed: ${error instanceof Error ? error.message : String(error)}`, '08P01', 'FATAL')));
          return;
        }
        case 'authenticationSASLFinal':
          if (!scram?.final || !scramServerFinalValid(scram.final, String(fields.data))) {
            return finish(new UpstreamError('upstream failed to prove the SCRAM server signature', '28000', 'FATAL'));
          }
          return;
        case 'authenticationOk':
          return;
        case 'parameterStatus':
          parameterStatus.push([String(fields.parameterName), String(fields.parameterValue)]);
          return;
        case 'backendKeyData':
          processId = Number(fields.processID);
          secretKey = Number(fields.secretKey);
          return;
        case 'readyForQuery':
          return finish();
        case 'error': {
          const answer = serverAnswerOf(fields, request.password);
          const severity = typeof fields.severity === 'string' ? fields.severity : undefined;
          return finish(new UpstreamError(answer.message, answer.code, severity, answer));
        }
        case 'notice':
          return;
        default:
          return finish(new UpstreamError(`unexpected ${message.name} during upstream login`, '08P01', 'FATAL'));
      }
    };
    const onData = (chunk: Buffer): void => {
      try {
        parser.parse(chunk, onMessage);
      } catch (error) {
        finish(new UpstreamError(`malformed upstream handshake: ${error instanceof Error ? error.message : String(error)}`, '08P01', 'FATAL'));
      }
    };
    const onError = (error: Error): void => finish(new UpstreamError(`upstream connection failed: ${error.message}`, '08006', 'FATAL'));
    const onClose = (): void => finish(new UpstreamError('upstream closed the connection during login', '08006', 'FATAL'));

    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
    socket.write(serialize.startup({ ...request.parameters, user: request.user, database: request.database }));
  });
}

export async function connectUpstream(request: UpstreamLogin, signal: AbortSignal): Promise<UpstreamSession> {
  // A connection that may carry TLS keeps Node's own reads; a plain one reads into a reused buffer (net/connect.ts).
  const tcp = await connectTcp(request.resource.host, request.resource.port, signal, upstreamTlsOptions(request.resource) === undefined);
  const { socket, tls } = await negotiateTls(tcp, request.resource);
  const abort = (): void => { socket.destroy(); };
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await login(socket, tls, request);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/** Sends a CancelRequest for `processId/secretKey` on a fresh connection (plain TCP, as libpq does). */
export function sendUpstreamCancel(host: string, port: number, processId: number, secretKey: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (): void => { socket.destroy(); resolve(); };
    socket.setTimeout(5_000, done);
    socket.once('error', done);
    socket.once('connect', () => socket.end(serialize.cancel(processId, secretKey)));
    socket.once('close', done);
  });
}
