// A Broker double for lease-manager unit tests: users live in a Map, names follow `jg_<mark>_<role>_<suffix>`, and a test
// can slow issues down, take the "server" down, or make revoke lie. Written against the interface, not the builtin.
import { grantSuffix } from '../../src/access/ids.js';
import { Secret } from '../../src/audit/secret.js';
import type { Broker, IssueRequest, Lease, LeaseRef, RevocationCheck } from '../../src/credentials/broker.js';
import type { ResourceConfig } from '../../src/config/schema.js';

interface FakeUser {
  readonly resource: string;
  readonly password: string;
  expiresAt: Date;
  sessions: number;
}

export class FakeBroker implements Broker {
  readonly kind = 'builtin' as const;
  readonly users = new Map<string, FakeUser>();
  readonly calls = { issue: 0, renew: 0, revoke: 0, exists: 0, list: 0 };
  /** Every call throws ECONNREFUSED while true. */
  down = false;
  /** revoke() resolves but leaves the user in place (a broker that lies); exists() must catch it. */
  revokeLeavesUser = false;
  /** revoke() drops the user, then throws anyway. */
  revokeThrowsAfterDrop = false;
  issueDelayMs = 0;
  /** Every password handed out: none may appear in the store or the audit trail. */
  readonly passwords: string[] = [];

  /** `mark`: the deployment mark the names carry, as the builtin broker's do. */
  constructor(private readonly mark: string) {}

  private key = (resource: string, username: string): string => `${resource}/${username}`;

  private check(operation: string): void {
    if (this.down) throw Object.assign(new Error(`fake broker: ${operation}: connect ECONNREFUSED 127.0.0.1:1`), { code: 'ECONNREFUSED' });
  }

  /** A user made behind jitgate's back (or left by a crash between issue and record). */
  addUser(resource: string, username: string, sessions = 0): void {
    this.users.set(this.key(resource, username), { resource, password: 'outside', expiresAt: new Date(0), sessions });
  }

  hasUser(resource: string, username: string): boolean {
    return this.users.has(this.key(resource, username));
  }

  openSession(lease: Pick<Lease, 'resource' | 'username'>): void {
    const user = this.users.get(this.key(lease.resource, lease.username));
    if (user === undefined) throw new Error(`no user ${lease.username}`);
    user.sessions += 1;
  }

  async issue(request: IssueRequest): Promise<Lease> {
    this.calls.issue += 1;
    this.check('issue');
    if (this.issueDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.issueDelayMs));
    const username = `jg_${this.mark}_${request.role}_${grantSuffix(request.grantId)}`;
    const key = this.key(request.resource.name, username);
    if (this.users.has(key)) throw new Error(`fake broker: user ${username} already exists`);
    const password = `pw${this.passwords.length + 1}${'Q'.repeat(28)}`;
    this.passwords.push(password);
    this.users.set(key, { resource: request.resource.name, password, expiresAt: request.expiresAt, sessions: 0 });
    return {
      leaseId: `builtin/${request.resource.name}/${username}`, broker: 'builtin', grantId: request.grantId,
      resource: request.resource.name, role: request.role, username, password: new Secret(password), expiresAt: request.expiresAt,
    };
  }

  async renew(lease: LeaseRef, expiresAt: Date): Promise<Date> {
    this.calls.renew += 1;
    this.check('renew');
    const user = this.users.get(this.key(lease.resource, lease.username));
    if (user === undefined) throw new Error(`fake broker: no user ${lease.username}`);
    user.expiresAt = expiresAt;
    return expiresAt;
  }

  async revoke(lease: LeaseRef): Promise<void> {
    this.calls.revoke += 1;
    this.check('revoke');
    if (this.revokeLeavesUser) return;
    this.users.delete(this.key(lease.resource, lease.username));
    if (this.revokeThrowsAfterDrop) throw new Error('fake broker: connection lost after DROP');
  }

  async exists(lease: LeaseRef): Promise<RevocationCheck> {
    this.calls.exists += 1;
    this.check('exists');
    const user = this.users.get(this.key(lease.resource, lease.username));
    return { userExists: user !== undefined, sessions: user?.sessions ?? 0 };
  }

  async listManagedUsers(resource: ResourceConfig): Promise<string[]> {
    this.calls.list += 1;
    this.check('list');
    return [...this.users.entries()]
      .filter(([, user]) => user.resource === resource.name)
      .map(([key]) => key.slice(resource.name.length + 1));
  }

  async close(): Promise<void> {}
}
