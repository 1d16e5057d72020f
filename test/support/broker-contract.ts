// The builtin broker contract (issue 4, acceptance 1, 2 and 6): the same assertions on every target server, each
// checked through a real client logging in as the lease user and through the server's own catalogs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import type { Lease } from '../../src/credentials/broker.js';
import { BuiltinBroker, leaseUsername, validateRoleTemplates } from '../../src/credentials/builtin/index.js';
import type { ResourceConfig } from '../../src/config/schema.js';
import { deploymentMark, newDeploymentId } from '../../src/credentials/deployment.js';
import { errorCode, type BrokerTarget, type TargetServer } from './broker-targets.js';

export interface ContractContext {
  readonly server: TargetServer;
  readonly broker: BuiltinBroker;
  /** The deployment mark the broker puts in its user names. */
  readonly mark: string;
  /** Issues a lease that the suite revokes at the end if a test did not. */
  issue(role: string, resource?: ResourceConfig, ttlMs?: number): Promise<Lease>;
}

/** Starts the target and a broker on it; every lease issued through `issue` is revoked afterwards. */
export function useContractContext(target: BrokerTarget): () => ContractContext {
  let context: ContractContext | undefined;
  const issued: Lease[] = [];
  beforeAll(async () => {
    const server = await target.start();
    const deployment = newDeploymentId();
    const broker = new BuiltinBroker({ resources: [server.resource, server.badResource], deployment });
    context = {
      server,
      broker,
      mark: deploymentMark(deployment),
      async issue(role, resource = server.resource, ttlMs = 10 * 60_000) {
        const lease = await broker.issue({ resource, role, grantId: newGrantId(), expiresAt: new Date(Date.now() + ttlMs) });
        issued.push(lease);
        return lease;
      },
    };
    await server.admin('create table items (id int primary key, label varchar(40))');
    await server.admin("insert into items values (1, 'one')");
  });
  afterAll(async () => {
    if (context === undefined) return;
    await Promise.allSettled(issued.map((lease) => context?.broker.revoke(lease)));
    await context.broker.close();
    await context.server.close();
  });
  return () => {
    if (context === undefined) throw new Error('contract context not started');
    return context;
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Gone means: the login is refused, the catalog has no row, and no session of it is left. */
async function expectGone(target: BrokerTarget, { server }: ContractContext, lease: Lease): Promise<void> {
  expect(errorCode(await rejection(server.login(lease)))).toBe(target.loginFailed);
  expect(await server.userRows(lease.username)).toBe(0);
  expect(await server.sessionsOf(lease.username)).toBe(0);
}

export function describeBrokerContract(target: BrokerTarget): void {
  describe(`builtin broker contract: ${target.name}`, () => {
    const context = useContractContext(target);

    it('readonly can SELECT and is refused INSERT; revoke ends its open session and the user', async () => {
      const ctx = context();
      const lease = await ctx.issue('readonly');
      const session = await ctx.server.login(lease);
      expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
      expect(errorCode(await rejection(session.query("insert into items values (2, 'two')")))).toBe(target.permissionDenied);
      expect(await ctx.server.sessionsOf(lease.username)).toBe(1);

      await ctx.broker.revoke(lease); // the session is still open
      await expect(session.query('select 1')).rejects.toThrow();
      await session.end();
      await expectGone(target, ctx, lease);
    });

    it('readwrite can INSERT; after revoke it cannot log in', async () => {
      const ctx = context();
      const lease = await ctx.issue('readwrite');
      const session = await ctx.server.login(lease);
      await session.query("insert into items values (3, 'three')");
      expect(await session.query('select label from items where id = 3')).toEqual([{ label: 'three' }]);
      await session.end();
      await ctx.broker.revoke(lease);
      await expectGone(target, ctx, lease);
      expect(await ctx.server.admin('select label from items where id = 3')).toEqual([{ label: 'three' }]);
    });

    it('exists() and listManagedUsers() follow the user; a second revoke succeeds quietly', async () => {
      const ctx = context();
      const lease = await ctx.issue('readonly');
      expect(lease.username).toMatch(new RegExp(`^jg_${ctx.mark}_re(adonly)?_[a-z2-7]{20}$`)); // the role is cut on MySQL
      expect(lease.leaseId).toBe(`builtin/${ctx.server.resource.name}/${lease.username}`);
      expect(await ctx.broker.exists(lease)).toEqual({ userExists: true, sessions: 0 });
      expect(await ctx.broker.listManagedUsers(ctx.server.resource)).toContain(lease.username);

      const session = await ctx.server.login(lease);
      expect(await ctx.broker.exists(lease)).toEqual({ userExists: true, sessions: 1 });
      await session.end();

      await ctx.broker.revoke(lease);
      expect(await ctx.broker.exists(lease)).toEqual({ userExists: false, sessions: 0 });
      await ctx.broker.revoke(lease);
      expect(await ctx.broker.listManagedUsers(ctx.server.resource)).not.toContain(lease.username);
    });

    it('an unknown placeholder is a validation error naming resource, role and placeholder, and issue refuses it', async () => {
      const ctx = context();
      const problems = validateRoleTemplates(ctx.server.badResource).filter((problem) => problem.role === 'typo');
      expect(problems).toHaveLength(1);
      expect(problems[0]?.message).toMatch(new RegExp(`resource "${ctx.server.badResource.name}" role "typo" creation_statements\\[\\d\\]: unknown placeholder \\{\\{nmae\\}\\}`));
      expect(validateRoleTemplates(ctx.server.resource)).toEqual([]);

      const grantId = newGrantId();
      const issuing = ctx.broker.issue({ resource: ctx.server.badResource, role: 'typo', grantId, expiresAt: new Date(Date.now() + 60_000) });
      await expect(issuing).rejects.toThrow(/role "typo".*\{\{nmae\}\}/);
      expect(await ctx.server.userRows(leaseUsername(ctx.server.badResource.protocol, 'typo', grantId, ctx.mark))).toBe(0);
    });

    it('a syntax error in the 2nd creation statement rejects, naming role and statement, and leaves no user', async () => {
      const ctx = context();
      const grantId = newGrantId();
      const username = leaseUsername(ctx.server.badResource.protocol, 'broken', grantId, ctx.mark);
      const expiresAt = new Date(Date.now() + 60_000);
      const error = await rejection(ctx.broker.issue({ resource: ctx.server.badResource, role: 'broken', grantId, expiresAt }));
      expect(String(error)).toMatch(/role "broken": creation_statements\[1\] failed: /);
      expect(String(error)).toContain(`resource "${ctx.server.badResource.name}"`);
      expect(await ctx.server.userRows(username)).toBe(0);
      expect(await ctx.server.sessionsOf(username)).toBe(0);
    });
  });
}
