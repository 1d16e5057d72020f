// Why a lease could not be handed out. Engines turn the code into the protocol's own error (DESIGN §3): the
// message is for the client who already proved the grant token, and for operators; it never holds a secret.

export type LeaseErrorCode =
  /** The grant is not approved/active, or its end has passed. */
  | 'grant_not_usable'
  | 'unknown_grant'
  /** The grant names a resource (or a broker) the running config does not have. */
  | 'unknown_resource'
  | 'no_broker'
  /** Under `audit.on_failure: block`, no access is created while the trail cannot record it. */
  | 'audit_unavailable'
  /** An earlier user of this grant is still being revoked; its name would collide. Retried in the background. */
  | 'previous_lease_pending'
  /** The user was made but could not be recorded; it is being revoked again. */
  | 'not_recorded'
  | 'closed';

export class LeaseError extends Error {
  override readonly name = 'LeaseError';

  constructor(readonly code: LeaseErrorCode, message: string) {
    super(message);
  }
}
