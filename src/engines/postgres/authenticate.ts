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
import { decideAccess, describeRefusal, type AccessRefusal } from '../../access/access-decision.js';
import type { Grant } from '../../access/grant.js';
import { parseScramSecret } from '../../access/tokens.js';
import type { ResourceConfig } from '../../config/schema.js';
import type { ClientReader } from './client-reader.js';
import type { PostgresEngineDeps } from './deps.js';

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

/** The connect-time refusal (src/access/access-decision.ts) as the FATAL this protocol sends. */
function fatalForRefusal(refusal: AccessRefusal, grant: Grant): ErrorFields<'FATAL'> {
  switch (refusal.kind) {
    case 'pending': return pgError.grantPending(grant.id);
    case 'ended': return pgError.grantEnded(grant.id, refusal.why);
    case 'resource_missing': return pgError.accessDenied(`resource of grant ${grant.id} is no longer configured`);
    case 'wrong_protocol': return pgError.accessDenied(`grant ${grant.id} is for ${refusal.protocol} resource "${refusal.resource}"; use jitgate's MySQL port`);
    case 'wrong_database': return pgError.invalidDatabase(refusal.asked, refusal.offered);
    case 'source_address': return pgError.accessDenied(`grant ${grant.id} may not connect from ${refusal.address}`);
  }
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
  const decision = decideAccess(grant, deps.resources(grant.resource),
    { protocol: 'postgres', database: requestedDatabase(parameters, user), address }, (proven, from) => deps.grants.allowsAddress(proven, from));
  if (decision.ok) return { ok: true, grant, resource: decision.resource, serverFinal };
  return { ok: false, error: fatalForRefusal(decision.refusal, grant), reason: describeRefusal(decision.refusal), serverFinal };
}
