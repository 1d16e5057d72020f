// VAULT.md §7 contract tests 4–14: the database secrets engine and leases, on PostgreSQL or MariaDB, each checked
// through Vault's answers, a real client logging in as the generated user, and the server's catalogs.
import vault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from '../broker-targets.js';
import { openDbFixture, type DbFixture, type DbKind } from './fixtures.js';
import { seedDatabase, seedVault, type SeededRole, type SeededVault } from './seed.js';
import { eventually, firstError, record, vaultCall, type VaultReply, type VaultTarget } from './targets.js';

interface Context {
  readonly target: VaultTarget;
  readonly vault: SeededVault;
  readonly db: DbFixture;
  readonly token: string;
}

interface Issued {
  readonly leaseId: string;
  readonly username: string;
  readonly password: string;
  readonly reply: VaultReply;
}

const USERNAME: Record<DbKind, { readonly pattern: RegExp; readonly max: number }> = {
  postgres: { pattern: /^v-approle-readonly-[A-Za-z0-9]{20}-\d{10}$/, max: 63 },
  mysql: { pattern: /^v-approle-readonly-[A-Za-z0-9]{13}$/, max: 32 },
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

export function describeDatabaseContract(getTarget: () => VaultTarget, kind: DbKind, mount: string, scaledClock: boolean): void {
  describe(`database secrets engine on ${kind === 'postgres' ? 'PostgreSQL' : 'MariaDB'} (mount ${mount}/)`, () => {
    let context: Context | undefined;
    beforeAll(async () => {
      const target = getTarget();
      const db = await openDbFixture(kind);
      const seeded = await seedVault(target);
      await seedDatabase(seeded, db, mount);
      context = { target, vault: seeded, db, token: (await seeded.login('broker')).token };
    });
    afterAll(async () => {
      if (context === undefined) return;
      // Revoke what is left (drops the users), then forget whatever could not be revoked.
      await context.vault.root('PUT', `sys/leases/revoke-prefix/${mount}/`);
      await context.vault.root('PUT', `sys/leases/revoke-force/${mount}/`);
      await context.db.close();
    });
    const ctx = (): Context => {
      if (context === undefined) throw new Error('contract context not started');
      return context;
    };
    /** `token: ''` sends none. */
    const call = (method: string, path: string, body?: unknown, token: string = ctx().token): Promise<VaultReply> =>
      vaultCall(ctx().target.address, method, path, { ...(token === '' ? {} : { token }), ...(body === undefined ? {} : { body }) });
    const issue = async (role: SeededRole, token = ctx().token): Promise<Issued> => {
      const reply = await call('GET', `${mount}/creds/${role}`, undefined, token);
      if (reply.status !== 200) throw new Error(`creds ${role}: ${reply.status} ${firstError(reply)}`);
      const data = record(reply.body?.data);
      return { leaseId: String(reply.body?.lease_id), username: String(data.username), password: String(data.password), reply };
    };
    const lookup = (leaseId: string): Promise<VaultReply> => call('PUT', 'sys/leases/lookup', { lease_id: leaseId });
    const gone = async (username: string): Promise<boolean> => (await ctx().db.userRows(username)) === 0;
    const validUntilMs = async (username: string): Promise<number> =>
      Number((await ctx().db.admin('select extract(epoch from rolvaliduntil)::float8 * 1000 as ms from pg_roles where rolname = $1', [username]))[0]?.ms);

    it('4. creds have the envelope, the lease id and username formats; the user logs in and runs the granted query', async () => {
      const { reply, leaseId, username, password } = await issue('readonly');
      expect(Object.keys(reply.body ?? {})).toEqual(expect.arrayContaining(['request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth']));
      expect(leaseId).toMatch(new RegExp(`^${mount}/creds/readonly/[A-Za-z0-9]{24}$`));
      expect(reply.body).toMatchObject({ renewable: true, lease_duration: 3600, auth: null });
      expect(username).toMatch(USERNAME[kind].pattern);
      expect(username.length).toBeLessThanOrEqual(USERNAME[kind].max);
      expect(password).toMatch(/^[A-Za-z0-9-]{20}$/);
      const session = await ctx().db.login({ username, password });
      expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
      await session.end();
    });

    it('5. unknown role 400, role outside allowed_roles 500, no token 403, token without creds policy 403', async () => {
      const unknown = await call('GET', `${mount}/creds/nope`);
      expect([unknown.status, firstError(unknown)]).toEqual([400, 'unknown role: nope']);
      const outsider = await call('GET', `${mount}/creds/outsider`);
      expect(outsider.status).toBe(500);
      expect(firstError(outsider)).toContain('"outsider" is not an allowed role');
      expect((await call('GET', `${mount}/creds/readonly`, undefined, '')).status).toBe(403);
      const denied = await call('GET', `${mount}/creds/readonly`, undefined, (await ctx().vault.login('nocreds')).token);
      expect(denied.status).toBe(403);
      expect(firstError(denied)).toContain('permission denied');
    });

    it('6. renew sets the TTL from now; past the role max_ttl it is capped with a warning; PG VALID UNTIL moves', async () => {
      const { leaseId, username } = await issue('readonly');
      const before = kind === 'postgres' ? await validUntilMs(username) : 0;
      const renewed = await call('PUT', 'sys/leases/renew', { lease_id: leaseId, increment: 600 });
      expect(renewed.status).toBe(200);
      expect(renewed.body).toMatchObject({ lease_id: leaseId, renewable: true });
      expect(Number(renewed.body?.lease_duration)).toBeGreaterThanOrEqual(598);
      expect(Number(renewed.body?.lease_duration)).toBeLessThanOrEqual(600);
      if (kind === 'postgres') {
        const after = await validUntilMs(username);
        expect(after).toBeLessThan(before);
        expect(Math.abs(after - (Date.now() + 605_000))).toBeLessThan(5_000);
      }
      const capped = await issue('capped');
      const cut = await call('PUT', 'sys/leases/renew', { lease_id: capped.leaseId, increment: 3600 });
      expect(cut.status).toBe(200);
      expect(Number(cut.body?.lease_duration)).toBeGreaterThan(100);
      expect(Number(cut.body?.lease_duration)).toBeLessThanOrEqual(120);
      expect(cut.body?.warnings).toEqual([expect.stringContaining('exceeded the effective max_ttl')]);
    });

    it('7. lookup: ttl <= lease_duration, renewable, last_renewal null until a renew', async () => {
      const { leaseId } = await issue('readonly');
      const first = record((await lookup(leaseId)).body?.data);
      expect(first).toMatchObject({ id: leaseId, renewable: true, last_renewal: null });
      expect(Number(first.ttl)).toBeLessThanOrEqual(3600);
      expect(Number(first.ttl)).toBeGreaterThan(3500);
      expect((await call('PUT', 'sys/leases/renew', { lease_id: leaseId, increment: 1800 })).status).toBe(200);
      const second = record((await lookup(leaseId)).body?.data);
      expect(Date.parse(String(second.last_renewal))).toBeGreaterThanOrEqual(Date.parse(String(first.issue_time)));
      expect(Number(second.ttl)).toBeLessThanOrEqual(1800);
    });

    it('8. sync revoke is 204 and the user is gone; lookup then 400 invalid lease, renew 400 lease not found; revoke again 204', async () => {
      const { leaseId, username, password } = await issue('readonly');
      expect((await call('PUT', 'sys/leases/revoke', { lease_id: leaseId })).status).toBe(204);
      expect(await gone(username)).toBe(true);
      expect(errorCode(await rejection(ctx().db.login({ username, password })))).toBe(ctx().db.loginFailed);
      const looked = await lookup(leaseId);
      expect([looked.status, firstError(looked)]).toEqual([400, 'invalid lease']);
      const renewed = await call('PUT', 'sys/leases/renew', { lease_id: leaseId, increment: 60 });
      expect([renewed.status, firstError(renewed)]).toEqual([400, 'lease not found']);
      expect((await call('PUT', 'sys/leases/revoke', { lease_id: leaseId, sync: true })).status).toBe(204);
    });

    it('9. sync:false is 202 (node-vault rejects with statusCode 202) and the user disappears within seconds', async () => {
      const { leaseId, username } = await issue('readonly');
      const client = vault({ endpoint: ctx().target.address, token: ctx().token, requestOptions: { timeout: 5_000 } });
      const error = await rejection(client.write('sys/leases/revoke', { lease_id: leaseId, sync: false }));
      expect(record(record(error).response).statusCode).toBe(202);
      expect(await eventually(() => gone(username), 5_000)).toBe(true);
    });

    it('10. a lease of a role with default_ttl 3s is dropped without any call', async () => {
      const { leaseId, username, reply } = await issue('short');
      expect(reply.body?.lease_duration).toBe(3);
      expect(await gone(username)).toBe(false);
      await ctx().target.elapse(3_000);
      expect(await eventually(() => gone(username), scaledClock ? 2_000 : 4_000)).toBe(true);
      expect(firstError(await lookup(leaseId))).toBe('invalid lease');
    });

    it('11. cascade: a 1h lease minted by a 5s AppRole token is revoked when the token expires', async () => {
      const short = await ctx().vault.login('short');
      const { leaseId, username, reply } = await issue('readonly', short.token);
      expect(reply.body?.lease_duration).toBe(3600);
      await ctx().target.elapse(5_000);
      expect(await eventually(async () => (await gone(username)) && (await lookup(leaseId)).status === 400, scaledClock ? 3_000 : 8_000)).toBe(true);
      expect(firstError(await lookup(leaseId))).toBe('invalid lease');
    });

    it('12. custom revocation_statements run; after the role is deleted the statements captured at issue still do', async () => {
      const logged = async (username: string): Promise<boolean> =>
        (await ctx().db.admin(`select name from revoked_log where name = ${kind === 'postgres' ? '$1' : '?'}`, [username])).length === 1;
      const first = await issue('logging');
      expect((await call('PUT', 'sys/leases/revoke', { lease_id: first.leaseId })).status).toBe(204);
      expect(await logged(first.username)).toBe(true);
      expect(await gone(first.username)).toBe(true);

      const second = await issue('logging2');
      expect((await ctx().vault.root('DELETE', `${mount}/roles/logging2`)).status).toBe(204);
      expect((await call('PUT', 'sys/leases/revoke', { lease_id: second.leaseId })).status).toBe(204);
      expect(await logged(second.username)).toBe(true);
      expect(await gone(second.username)).toBe(true);
    });

    it(`13. a failing revocation is 400 "failed to revoke entry" and the lease stays${scaledClock ? '; after the expiry retries it is irrevocable' : ' (irrevocable part skipped on real Vault: ~10 min of retries)'}`, async () => {
      const { leaseId, username, password } = await issue('owner');
      if (kind === 'postgres') {
        const session = await ctx().db.login({ username, password });
        await session.query('create table owned_by_lease (id int)');
        await session.end();
      } else {
        await ctx().db.admin(`drop user '${username}'@'%'`);
      }
      const revoked = await call('PUT', 'sys/leases/revoke', { lease_id: leaseId });
      expect(revoked.status).toBe(400);
      expect(firstError(revoked)).toContain('failed to revoke entry');
      expect((await lookup(leaseId)).status).toBe(200);
      if (scaledClock) {
        await ctx().target.elapse(31_000);
        const irrevocable = async (): Promise<boolean> => {
          const listed = await ctx().vault.root('GET', 'sys/leases?type=irrevocable');
          const leases = record(listed.body?.data).leases;
          return Array.isArray(leases) && leases.some((lease) => record(lease).lease_id === leaseId);
        };
        expect(await eventually(irrevocable, 5_000)).toBe(true);
        expect(record((await lookup(leaseId)).body?.data).renewable).toBe(false);
        const renewed = await call('PUT', 'sys/leases/renew', { lease_id: leaseId, increment: 60 });
        expect(firstError(renewed)).toContain('failed previous revocation attempts');
      }
      if (kind === 'postgres') await ctx().db.admin(`drop owned by "${username}"; drop role "${username}"`);
      expect((await ctx().vault.root('PUT', `sys/leases/revoke-force/${leaseId}`)).status).toBe(204);
      expect(firstError(await lookup(leaseId))).toBe('invalid lease');
    });

    it('14. the default revocation leaves a live session connected (so jitgate must end its sessions itself)', async () => {
      const { leaseId, username, password } = await issue('readonly');
      const session = await ctx().db.login({ username, password });
      expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
      expect((await call('PUT', 'sys/leases/revoke', { lease_id: leaseId })).status).toBe(204);
      expect(await gone(username)).toBe(true);
      expect(await ctx().db.sessionsOf(username)).toBe(kind === 'postgres' ? 0 : 1); // PG: usename turns NULL
      expect(await session.query('select 1 as one')).toEqual([{ one: 1 }]);
      if (kind === 'postgres') {
        expect(errorCode(await rejection(session.query('select label from items')))).toBe(ctx().db.permissionDenied);
      } else {
        // MariaDB keeps database-level privileges cached in the session until the next USE: the open session can
        // still read its current database; only a new USE (or a new login) is refused.
        expect(await session.query('select label from items')).toEqual([{ label: 'one' }]);
        expect(errorCode(await rejection(session.query(`use \`${ctx().db.scratch.name}\``)))).toBe('1044');
      }
      await session.end();
    });
  });
}
