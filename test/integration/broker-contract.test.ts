// The builtin broker on real servers: the shared contract (test/support/broker-contract.ts) on PostgreSQL and
// MariaDB, then what only one engine has: VALID UNTIL and owned objects on PostgreSQL, several hosts on MariaDB.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { newGrantId } from '../../src/access/ids.js';
import { leaseUsername } from '../../src/credentials/builtin/index.js';
import { describeBrokerContract, useContractContext } from '../support/broker-contract.js';
import { mariadbTarget, postgresTarget } from '../support/broker-targets.js';
import { createPgDatabase } from '../support/databases.js';

describeBrokerContract(postgresTarget);
describeBrokerContract(mariadbTarget);

const validUntilMs = async (admin: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>, username: string): Promise<number | null> => {
  const rows = await admin('select extract(epoch from rolvaliduntil)::float8 * 1000 as ms from pg_roles where rolname = $1', [username]);
  const ms = rows[0]?.ms;
  return typeof ms === 'number' ? ms : null;
};

describe('builtin broker on PostgreSQL only', () => {
  const context = useContractContext(postgresTarget);

  it('gives the user VALID UNTIL the requested end (within a second), and renew moves it', async () => {
    const ctx = context();
    const requested = Date.now() + 20 * 60_000 + 123;
    const lease = await ctx.issue('readonly', ctx.server.resource, requested - Date.now());
    expect(Math.abs(lease.expiresAt.getTime() - requested)).toBeLessThan(1_000);
    expect(lease.expiresAt.getTime()).toBeGreaterThanOrEqual(requested); // never before the lease's own end
    const stored = await validUntilMs(ctx.server.admin, lease.username);
    expect(stored).not.toBeNull();
    expect(Math.abs((stored ?? 0) - requested)).toBeLessThan(1_000);

    const extended = new Date(requested + 30 * 60_000);
    const renewed = await ctx.broker.renew(lease, extended);
    expect(Math.abs(renewed.getTime() - extended.getTime())).toBeLessThan(1_000);
    expect(Math.abs((await validUntilMs(ctx.server.admin, lease.username) ?? 0) - extended.getTime())).toBeLessThan(1_000);
    await ctx.broker.revoke(lease);
  });

  it('adds VALID UNTIL when the template forgot it', async () => {
    const ctx = context();
    const requested = Date.now() + 5 * 60_000;
    const lease = await ctx.issue('forgetful', ctx.server.badResource, requested - Date.now());
    expect(Math.abs((await validUntilMs(ctx.server.admin, lease.username) ?? 0) - requested)).toBeLessThan(1_000);
    await ctx.broker.revoke(lease);
  });

  it('revokes a user that created tables, here and in another database: the tables stay, owned by the admin', async () => {
    const ctx = context();
    const lease = await ctx.issue('readwrite');
    const adminUser = ctx.server.resource.admin?.user ?? 'postgres';
    const session = await ctx.server.login(lease);
    await session.query('create table made_by_lease (id int)');
    await session.query('insert into made_by_lease values (42)');
    await session.end();

    // A second database where the lease user also owns a table: revocation must clean it up too.
    const other = await createPgDatabase('broker_other');
    try {
      const otherAdmin = new pg.Client({ connectionString: other.url });
      await otherAdmin.connect();
      await otherAdmin.query(`grant create on schema public to "${lease.username}"`);
      const otherLease = new pg.Client({
        host: ctx.server.resource.host, port: ctx.server.resource.port, database: other.name,
        user: lease.username, password: lease.password.reveal(),
      });
      await otherLease.connect();
      await otherLease.query('create table elsewhere (id int)');
      await otherLease.end();

      await ctx.broker.revoke(lease);
      expect(await ctx.server.userRows(lease.username)).toBe(0);
      expect(await ctx.server.admin("select tableowner from pg_tables where tablename = 'made_by_lease'", []))
        .toEqual([{ tableowner: adminUser }]);
      expect(await ctx.server.admin('select id from made_by_lease', [])).toEqual([{ id: 42 }]);
      const elsewhere = await otherAdmin.query("select tableowner from pg_tables where tablename = 'elsewhere'");
      expect(elsewhere.rows).toEqual([{ tableowner: adminUser }]);
      await otherAdmin.end();
    } finally {
      await other.drop();
    }
  });

  it('refuses to issue over an existing user of the same grant, and leaves that user alone', async () => {
    const ctx = context();
    const grantId = newGrantId();
    const expiresAt = new Date(Date.now() + 60_000);
    const first = await ctx.broker.issue({ resource: ctx.server.resource, role: 'readonly', grantId, expiresAt });
    try {
      await expect(ctx.broker.issue({ resource: ctx.server.resource, role: 'readonly', grantId, expiresAt })).rejects.toThrow(/already exists/);
      const session = await ctx.server.login(first); // the first lease's password still works
      await session.end();
    } finally {
      await ctx.broker.revoke(first);
    }
  });
});

describe('builtin broker on MariaDB only', () => {
  const context = useContractContext(mariadbTarget);

  it('drops every host the failed statements created', async () => {
    const ctx = context();
    const grantId = newGrantId();
    const username = leaseUsername('mysql', 'two_hosts', grantId, ctx.mark);
    const issuing = ctx.broker.issue({ resource: ctx.server.badResource, role: 'two_hosts', grantId, expiresAt: new Date(Date.now() + 60_000) });
    await expect(issuing).rejects.toThrow(/role "two_hosts": creation_statements\[2\] failed: errno \d+/);
    expect(await ctx.server.userRows(username)).toBe(0);
  });

  it('keeps the password out of a syntax error that quotes it', async () => {
    const ctx = context();
    const issuing = ctx.broker.issue({ resource: ctx.server.badResource, role: 'misspelled', grantId: newGrantId(), expiresAt: new Date(Date.now() + 60_000) });
    const message = String(await issuing.catch((error: unknown) => error));
    expect(message).toMatch(/creation_statements\[0\] failed: errno 1064 .*near 'IDENTIFED BY '\[redacted\]''/);
    expect(message).not.toMatch(/[A-Za-z0-9]{21,}/); // a password is 32 such characters; the user name's runs are <= 20
  });

  it('renew keeps the user and returns the new end', async () => {
    const ctx = context();
    const lease = await ctx.issue('readonly');
    const extended = new Date(Date.now() + 60 * 60_000);
    const renewed = await ctx.broker.renew(lease, extended);
    expect(Math.abs(renewed.getTime() - extended.getTime())).toBeLessThan(1_000);
    expect(await ctx.broker.exists(lease)).toEqual({ userExists: true, sessions: 0 });
    await ctx.broker.revoke(lease);
    await expect(ctx.broker.renew(lease, extended)).rejects.toThrow(/does not exist/);
  });
});
