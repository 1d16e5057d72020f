// Bearer authentication for /v1: API keys now, OIDC/JWT later through the same Authenticator shape.
import type { FastifyRequest } from 'fastify';
import { AccessError } from '../access/errors.js';
import type { Identity } from '../access/identity.js';

export interface Authenticator {
  authenticate(bearer: string): Identity | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The caller of a /v1 route; the preHandler has already refused anonymous requests. */
export function callerOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new AccessError('unauthorized', 'missing or invalid API key');
  return request.identity;
}
