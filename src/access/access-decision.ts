// The connect-time decision, once for both wire protocols (DESIGN §10: grant state and end time checked at every
// login): may the client that proved this grant's token connect now, to this database, from this address? The answer
// is a typed refusal; each engine maps it to its protocol's error (FATAL 28000 / 3D000, ERR 1045 / 1044).
import type { Grant } from './grant.js';
import type { ResourceConfig } from '../config/schema.js';

export type AccessRefusal =
  | { readonly kind: 'pending' }
  | { readonly kind: 'ended'; readonly why: 'denied' | 'expired' | 'revoked' | 'cancelled' }
  | { readonly kind: 'resource_missing' }
  | { readonly kind: 'wrong_protocol'; readonly protocol: ResourceConfig['protocol']; readonly resource: string }
  | { readonly kind: 'wrong_database'; readonly asked: string; readonly offered: string }
  | { readonly kind: 'source_address'; readonly address: string };

export type AccessDecision =
  | { readonly ok: true; readonly resource: ResourceConfig }
  | { readonly ok: false; readonly refusal: AccessRefusal };

export interface ConnectRequest {
  readonly protocol: ResourceConfig['protocol'];
  /** The database the client named; undefined for "the resource's default". */
  readonly database: string | undefined;
  /** The client's address as the policy's source CIDRs see it. */
  readonly address: string;
}

const refuse = (refusal: AccessRefusal): AccessDecision => ({ ok: false, refusal });

export function decideAccess(grant: Grant, resource: ResourceConfig | undefined, request: ConnectRequest,
  allowsAddress: (grant: Grant, address: string) => boolean, now: number = Date.now()): AccessDecision {
  if (grant.state === 'pending') return refuse({ kind: 'pending' });
  if (grant.state === 'denied') return refuse({ kind: 'ended', why: 'denied' });
  if (grant.state === 'ended') return refuse({ kind: 'ended', why: grant.endReason ?? 'expired' });
  // The scheduler may be a moment behind: the end time itself is checked at every login.
  if (grant.expiresAt.getTime() <= now) return refuse({ kind: 'ended', why: 'expired' });
  if (resource === undefined) return refuse({ kind: 'resource_missing' });
  if (resource.protocol !== request.protocol) return refuse({ kind: 'wrong_protocol', protocol: resource.protocol, resource: resource.name });
  if (request.database !== undefined && request.database !== resource.database) {
    return refuse({ kind: 'wrong_database', asked: request.database, offered: resource.database });
  }
  if (!allowsAddress(grant, request.address)) return refuse({ kind: 'source_address', address: request.address });
  return { ok: true, resource };
}

/** The refusal in a few words, for `session.auth_failed` events and logs. */
export function describeRefusal(refusal: AccessRefusal): string {
  switch (refusal.kind) {
    case 'pending': return 'grant pending';
    case 'ended': return refusal.why === 'denied' ? 'grant denied' : `grant ${refusal.why}`;
    case 'resource_missing': return 'resource missing';
    case 'wrong_protocol': return 'wrong protocol';
    case 'wrong_database': return 'wrong database';
    case 'source_address': return 'source address not allowed';
  }
}
