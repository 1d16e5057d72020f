// VAULT.md §7 contract tests 1–3: health, AppRole login, token lookup-self and renew-self. Same assertions on the
// double and on real Vault.
import vault from 'node-vault';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedVault, type SeededVault } from './seed.js';
import { firstError, record, vaultCall, type VaultTarget } from './targets.js';

export function describeTokenContract(getTarget: () => VaultTarget): void {
  describe('health, AppRole and the token store', () => {
    let seeded: SeededVault;
    beforeAll(async () => {
      seeded = await seedVault(getTarget());
    });

    it('1. health answers 200 initialized, unsealed, active; node-vault health() resolves', async () => {
      const target = getTarget();
      const reply = await vaultCall(target.address, 'GET', 'sys/health');
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ initialized: true, sealed: false, standby: false });
      const client = vault({ endpoint: target.address, requestOptions: { timeout: 5_000 } });
      await expect(client.health()).resolves.toMatchObject({ initialized: true, sealed: false });
    });

    it('2. AppRole login has the auth shape and the role token_ttl; a bad secret_id is 400 "invalid role or secret ID"', async () => {
      const { reply, token } = await seeded.login('broker');
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ lease_id: '', lease_duration: 0, data: null, wrap_info: null });
      const auth = record(reply.body?.auth);
      expect(token).toMatch(/^hvs\./);
      expect(auth).toMatchObject({ lease_duration: 3600, renewable: true, token_type: 'service', orphan: true, metadata: { role_name: 'broker' } });
      expect(auth.accessor).toEqual(expect.any(String));
      expect(auth.policies).toEqual(expect.arrayContaining(['default', 'jitgate-broker']));
      expect(auth.token_policies).toEqual(expect.arrayContaining(['default', 'jitgate-broker']));

      const bad = await vaultCall(getTarget().address, 'POST', 'auth/approle/login', { body: { role_id: seeded.approles.broker.roleId, secret_id: 'wrong' } });
      expect(bad.status).toBe(400);
      expect(firstError(bad)).toContain('invalid role or secret ID');
    });

    it('3. lookup-self has the token fields; renew-self past token_max_ttl is capped with the max_ttl warning', async () => {
      const target = getTarget();
      const { token } = await seeded.login('broker');
      const looked = await vaultCall(target.address, 'GET', 'auth/token/lookup-self', { token });
      expect(looked.status).toBe(200);
      const data = record(looked.body?.data);
      expect(data).toMatchObject({ id: token, display_name: 'approle', creation_ttl: 3600, renewable: true, type: 'service', orphan: true });
      expect(data.ttl).toBeGreaterThan(3580);
      expect(data.ttl).toBeLessThanOrEqual(3600);
      expect(Date.parse(String(data.expire_time))).toBeGreaterThan(Date.now());
      expect(data.policies).toEqual(expect.arrayContaining(['default', 'jitgate-broker']));

      const rootLooked = record((await vaultCall(target.address, 'GET', 'auth/token/lookup-self', { token: target.rootToken })).body?.data);
      expect(rootLooked).toMatchObject({ policies: ['root'], ttl: 0, expire_time: null });

      const capped = await seeded.login('capped');
      const renewed = await vaultCall(target.address, 'POST', 'auth/token/renew-self', { token: capped.token, body: { increment: '1h' } });
      expect(renewed.status).toBe(200);
      const duration = Number(record(renewed.body?.auth).lease_duration);
      expect(duration).toBeGreaterThan(100);
      expect(duration).toBeLessThanOrEqual(120);
      expect(renewed.body?.warnings).toEqual([expect.stringContaining('exceeded the effective max_ttl')]);
    });
  });
}
