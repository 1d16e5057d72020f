// Step 3: authenticate the client against the grant with SCRAM-SHA-256, then decide whether the proven grant may
// connect. Unknown grants run the same exchange against a mock secret, so both failures send identical bytes
// (28P01); only a client that proved the token learns why it still may not in (28000).
import { randomBytes } from 'node:crypto';
import { FrontendCode } from '../../../protocols/postgres/codes.js';
import { encodeAuthenticationSASL, encodeAuthenticationSASLContinue, encodeAuthenticationSASLFinal } from '../../../protocols/postgres/backend-auth.js';
import type { ErrorFields } from '../../../protocols/postgres/backend-error.js';
import { decodeSASLInitialResponse, decodeSASLResponse } from '../../../protocols/postgres/frontend-auth.js';
import { mockScramSecret, ScramServer, type ScramSecret } from '../../../protocols/postgres/scram-server.js';
import { pgError } from '../../../protocols/postgres/sqlstate.js';
import { WireFormatError } from '../../../protocols/shared/wire-format-error.js';
import type { Grant } from '../../access/grant.js';
import { parseScramSecret } from '../../access/tokens.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { ClientReader } from './client-reader.js';
import type { PostgresEngineDeps } from './deps.js';

type AccessDecision =
  | { readonly ok: true; readonly grant: Grant; readonly resource: ResourceConfig }
  | { readonly ok: false; readonly error: ErrorFields<'FATAL'>; readonly reason: string };

export type AuthOutcome =
  | {
    readonly ok: true; readonly grant: Grant; readonly resource: ResourceConfig;
    /** AuthenticationSASLFinal, not sent yet: it goes out with what follows it (one socket write, not two). */
    readonly serverFinal: Buffer;
  }
  | { readonly ok: false; readonly error: ErrorFields<'FATAL'>; readonly reason: string; readonly serverFinal?: Buffer };

/**
 * Runs the SCRAM exchange: AuthenticationSASLFinal (for the caller to send) when the client proved it holds the token
 * behind `secret`, undefined when not.
 */
async function scramExchange(write: (bytes: Buffer) => void, reader: ClientReader, secret: ScramSecret): Promise<Buffer | undefined> {
  const scram = new ScramServer();
  write(encodeAuthenticationSASL(scram.mechanisms));
  const initial = await reader.readTypedMessage();
  if (initial.type !== FrontendCode.PasswordMessage) throw new WireFormatError('expected SASLInitialResponse');
  const { mechanism, data } = decodeSASLInitialResponse(initial.body);
  if (data === null) throw new WireFormatError('SASLInitialResponse without the client-first-message');
  const serverFirst = scram.start(data, randomBytes(18).toString('base64'), secret, mechanism);
  write(encodeAuthenticationSASLContinue(serverFirst));
  const response = await reader.readTypedMessage();
  if (response.type !== FrontendCode.PasswordMessage) throw new WireFormatError('expected SASLResponse');
  const finish = scram.finish(decodeSASLResponse(response.body).data);
  if (!finish.ok) return undefined;
  return encodeAuthenticationSASLFinal(finish.serverFinalMessage);
}

/** Which database the client asked for; libpq sends the user name when none is given, which means "the default". */
function requestedDatabase(parameters: Readonly<Record<string, string>>, user: string): string | undefined {
  const database = parameters.database;
  return database === undefined || database === '' || database === user ? undefined : database;
}

function accessDecision(grant: Grant, resource: ResourceConfig | undefined, database: string | undefined,
  address: string, deps: PostgresEngineDeps): AccessDecision {
  const refuse = (error: ErrorFields<'FATAL'>, reason: string): AccessDecision => ({ ok: false, error, reason });
  if (grant.state === 'pending') return refuse(pgError.grantPending(grant.id), 'grant pending');
  if (grant.state === 'denied') return refuse(pgError.grantEnded(grant.id, 'denied'), 'grant denied');
  if (grant.state === 'ended') return refuse(pgError.grantEnded(grant.id, grant.endReason ?? 'expired'), `grant ${grant.endReason ?? 'ended'}`);
  // The scheduler may be a moment behind: the end time itself is checked at every login (DESIGN §10).
  if (grant.expiresAt.getTime() <= Date.now()) return refuse(pgError.grantEnded(grant.id, 'expired'), 'grant expired');
  if (!resource) return refuse(pgError.accessDenied(`resource of grant ${grant.id} is no longer configured`), 'resource missing');
  if (resource.protocol !== 'postgres') {
    return refuse(pgError.accessDenied(`grant ${grant.id} is for ${resource.protocol} resource "${resource.name}"; use jitgate's MySQL port`), 'wrong protocol');
  }
  if (database !== undefined && database !== resource.database) return refuse(pgError.invalidDatabase(database, resource.database), 'wrong database');
  if (!deps.grants.allowsAddress(grant, address)) return refuse(pgError.accessDenied(`grant ${grant.id} may not connect from ${address}`), 'source address not allowed');
  return { ok: true, grant, resource };
}

export async function authenticateGrant(write: (bytes: Buffer) => void, reader: ClientReader,
  parameters: Readonly<Record<string, string>>, address: string, deps: PostgresEngineDeps): Promise<AuthOutcome> {
  const user = parameters.user ?? '';
  const grant = await deps.grants.lookup(user);
  const secret = (grant && parseScramSecret(grant.verifiers.scramSha256)) ?? mockScramSecret(user, deps.mockSecretKey);
  const serverFinal = await scramExchange(write, reader, secret);
  if (serverFinal === undefined || !grant) {
    return { ok: false, error: pgError.invalidPassword(user), reason: grant ? 'wrong token' : 'unknown grant' };
  }
  const decision = accessDecision(grant, deps.resources(grant.resource), requestedDatabase(parameters, user), address, deps);
  return { ...decision, serverFinal };
}
