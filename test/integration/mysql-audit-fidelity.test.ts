// Issue 6, acceptance 2: audit fidelity. The whole real-client MySQL suite runs through jitgate against a MariaDB of
// this file's own with the general query log on; then every statement the server logged for the lease user is diffed
// against jitgate's statement events (mapping in test/support/mysql-audit-diff.ts): 0 missing, 0 extra, same order
// per session, prepared statements compared by text and by each executed parameter value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffAudit } from '../support/mysql-audit-diff.js';
import { recordedStatements } from '../support/mysql-audit-events.js';
import { defineMysqlClientScenarios } from '../support/mysql-client-scenarios.js';
import { entriesByThreadOf, readGeneralLog, serverSessionsOf } from '../support/mysql-general-log.js';
import { createJitgateMysqlTarget, type MysqlTarget } from '../support/mysql-target.js';
import { findMariadbBinaries, startThrowawayMariadb, type ThrowawayMariadb } from '../support/servers/mariadb.js';

describe('MySQL audit fidelity: the general log against jitgate statement events', () => {
  let server: ThrowawayMariadb | undefined;
  let jitgate: Awaited<ReturnType<typeof createJitgateMysqlTarget>> | undefined;

  beforeAll(async () => {
    const binaries = findMariadbBinaries();
    if (binaries === undefined) throw new Error('the audit fidelity suite needs its own MariaDB: install mariadb-install-db and mariadbd');
    server = await startThrowawayMariadb(binaries, { generalLog: true });
    jitgate = await createJitgateMysqlTarget('jitgate (general log on)', { adminUrl: server.adminUrl });
  });
  afterAll(async () => {
    await jitgate?.cleanup();
    await server?.stop();
  });

  defineMysqlClientScenarios((): MysqlTarget => {
    if (jitgate === undefined) throw new Error('the jitgate target was not created (see beforeAll)');
    return jitgate.target;
  });

  it('every logged Query / Prepare / Execute / Init DB of the lease user is one-to-one with the statement events', async () => {
    if (jitgate === undefined || server?.generalLogPath == null) throw new Error('setup failed');
    // Sessions end asynchronously after their clients close: let the last events reach the store.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const recorded = await recordedStatements(jitgate.instance.handle);
    expect(recorded.leaseUsers.size).toBe(1);
    const [leaseUser] = [...recorded.leaseUsers];
    const threads = entriesByThreadOf(await readGeneralLog(server.generalLogPath), leaseUser ?? '');
    // A server connection jitgate reused (COM_QUIT withheld, then reset) served several sessions, one after the other.
    const { sessions: serverSessions, resets } = serverSessionsOf(threads);
    const diff = diffAudit(serverSessions, recorded.sessions);
    console.log(`[mysql audit fidelity] lease user ${leaseUser}: ${threads.size} server connections reset ${resets} times for reuse, `
      + `${diff.threads} server sessions, ${diff.sessions} jitgate sessions; `
      + `${diff.logEntries} log entries (Query/Prepare/Execute/Init DB) ↔ ${diff.events} statement events; matched `
      + `${diff.matchedEntries} entries with ${diff.matchedEvents} events; ${diff.prepareErrors} failed prepares (not logged by the server); `
      + `${diff.answeredKills} KILLs of unknown ids answered by jitgate; `
      + `missing ${diff.missing.length}, extra ${diff.extra.length}`);
    for (const mismatch of [...diff.missing, ...diff.extra].slice(0, 20)) console.log(`  ${mismatch.what}: ${mismatch.text} — ${mismatch.why}`);

    expect(diff.missing).toEqual([]);
    expect(diff.extra).toEqual([]);
    expect(diff.matchedEntries).toBe(diff.logEntries);
    expect(diff.matchedEvents + diff.prepareErrors + diff.answeredKills).toBe(diff.events);
    // The suite is big enough for the numbers to mean something: every kind of entry took part.
    expect(diff.logEntries).toBeGreaterThan(300);
    expect(diff.prepareErrors).toBeGreaterThan(0);
  });
});
