// VAULT.md §7's contract suite, run against the Vault double always (PostgreSQL and MariaDB), and against real Vault
// (hashicorp/vault in a container, VAULT.md §6) when a Docker engine answers — otherwise that run is skipped with
// the reason printed and in the skipped test's title, never silently.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { mysqlAdminUrl, pgAdminUrl } from '../support/databases.js';
import { describeDatabaseContract } from '../support/vault-double/contract-database.js';
import { describeTokenContract } from '../support/vault-double/contract-token.js';
import { doubleTarget, dockerUnavailableReason, REAL_VAULT_IMAGE, realVaultTarget, type VaultTarget } from '../support/vault-double/targets.js';

function describeContract(name: string, start: () => Promise<VaultTarget>, scaledClock: boolean): void {
  describe(name, () => {
    let target: VaultTarget | undefined;
    beforeAll(async () => {
      target = await start();
    }, 180_000);
    afterAll(async () => {
      await target?.close();
    });
    const get = (): VaultTarget => {
      if (target === undefined) throw new Error(`${name}: target not started`);
      return target;
    };
    describeTokenContract(get);
    describeDatabaseContract(get, 'postgres', 'database', scaledClock);
    describeDatabaseContract(get, 'mysql', 'mysqldb', scaledClock);
  });
}

describeContract('Vault contract: double', () => doubleTarget(), true);

const dockerMissing = await dockerUnavailableReason();
if (dockerMissing === undefined) {
  const port = (url: string): number => Number(new URL(url).port);
  describeContract(`Vault contract: real Vault (${REAL_VAULT_IMAGE})`, () => realVaultTarget([port(pgAdminUrl()), port(mysqlAdminUrl())]), false);
} else {
  const reason = `real Vault run skipped: no Docker engine answers (${dockerMissing})`;
  console.log(`[vault contract] ${reason}`);
  describe(`Vault contract: real Vault (${REAL_VAULT_IMAGE})`, () => {
    it.skip(reason, () => {});
  });
}
