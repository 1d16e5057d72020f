// What the builtin broker asks of one resource's server, through its admin connection. One implementation per
// engine (postgres.ts, mysql.ts); the broker (index.ts) picks by `resource.protocol` and owns naming and secrets.
import type { Secret } from '../../audit/secret.js';
import type { RoleConfig } from '../../config/schema.js';
import type { RevocationCheck } from '../broker.js';

export interface NewLeaseUser {
  readonly role: string;
  readonly roleConfig: RoleConfig;
  readonly username: string;
  readonly password: Secret;
  /** Already whole seconds: exactly what `{{expiration}}` and VALID UNTIL say. */
  readonly expiresAt: Date;
}

export interface LeaseUserRef {
  readonly role: string;
  /** Undefined when the role has left the config: the engine's defaults apply. */
  readonly roleConfig: RoleConfig | undefined;
  readonly username: string;
}

export interface EngineAdmin {
  /** Runs the creation statements; on failure removes whatever they made, then throws BuiltinBrokerError. */
  createUser(user: NewLeaseUser): Promise<void>;
  /** Moves the user's end where the engine has one, and runs renew_statements. Throws when the user is gone. */
  extendUser(user: LeaseUserRef, expiresAt: Date): Promise<void>;
  /** Ends the user's sessions and removes it; succeeds quietly when it is already gone. Verifies before returning. */
  dropUser(user: LeaseUserRef): Promise<void>;
  checkUser(username: string): Promise<RevocationCheck>;
  listManagedUsers(): Promise<string[]>;
  close(): Promise<void>;
}

export interface EngineAdminOptions {
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  /** Per statement the broker runs, creation statements included. */
  readonly statementTimeoutMs: number;
  /** How long revocation waits for killed sessions to disappear before it reports them. */
  readonly sessionDrainTimeoutMs: number;
  /** Errors of idle pooled connections (server restarts); they carry no SQL. */
  readonly onIdleError: (error: Error) => void;
}

/** Polls `remaining` until it reports 0 or the time is up; returns the last count. */
export async function waitForZero(remaining: () => Promise<number>, timeoutMs: number, intervalMs = 20): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await remaining();
    if (count === 0 || Date.now() >= deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
