// Audit fidelity (issue 5, acceptance 2): the whole real-client suite runs through jitgate against a PostgreSQL of this
// file's own that logs every statement (log_statement=all, jsonlog), plus a few cases the suite does not have
// (refusals at Parse and Bind, syntax errors inside multi-statement strings, empty queries). Afterwards every
// statement the server logged for the lease user must have exactly one matching jitgate statement event, in the same
// order per session, with the same text and parameters — 0 missing, 0 extra. pg-audit-diff.ts states the mapping
// (one server line per simple Query string vs. one event per statement in it). The builtin broker's own statements
// run as the admin user and are filtered out by user name.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { compareAudit, type AuditStatement } from '../support/pg-audit-diff.js';
import { definePgClientScenarios } from '../support/pg-client-scenarios.js';
import { adminQuery, createJitgateTargetOn, startOwnPostgres, type OwnJitgateTarget } from '../support/pg-own-server.js';
import { pgConfig, sqlstateOf } from '../support/pg-scenarios/scope.js';
import { logContains, readLoggedStatements, splitAtServerResets } from '../support/pg-statement-log.js';
import type { ThrowawayPostgres } from '../support/servers/postgres.js';

const LOG_FILE = 'statements.log'; // jsonlog writes statements.json
let server: ThrowawayPostgres | undefined;
let own: OwnJitgateTarget | undefined;

const target = (): OwnJitgateTarget => {
  if (own === undefined) throw new Error('the jitgate target was not created (see beforeAll)');
  return own;
};

beforeAll(async () => {
  server = await startOwnPostgres({
    settings: (dir) => ({
      log_statement: 'all',
      // A `duration:` line marks each statement, Parse and Bind that finished: how pg-statement-log.ts tells an
      // ERROR of a statement that ran from a refusal of one that never did.
      log_min_duration_statement: '0',
      log_destination: 'jsonlog',
      logging_collector: 'on',
      log_directory: dir,
      log_filename: LOG_FILE,
      log_rotation_age: '0',
      log_rotation_size: '0',
      log_parameter_max_length: '-1', // the default, stated: parameters are logged whole
    }),
  });
  const [version] = await adminQuery<{ v: number }>(server.adminUrl, `select current_setting('server_version_num')::int as v`);
  if ((version?.v ?? 0) < 150_000) throw new Error('jsonlog needs PostgreSQL 15 or newer');
  own = await createJitgateTargetOn(server.adminUrl, { prefix: 'fidelity' });
}, 60_000);

afterAll(async () => {
  await own?.cleanup();
  await server?.stop();
});

definePgClientScenarios(() => target().target);

const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const looksLikeArray = (text: string): boolean => text.startsWith('{') && text.endsWith('}');

/**
 * The server prints a parameter through its type's output function (params.c BuildParamLogString); jitgate records
 * the text the client sent, which is what went over the wire. The one spelling difference the suite produces is an
 * array literal's element quoting (pg sends `{"1","2"}`, array_out prints `{1,2}`); for array literals only, the
 * server itself decides whether the two spell the same array. Anything else must be identical.
 */
async function sameArrays(pairs: readonly (readonly [string, string])[]): Promise<Set<string>> {
  const same = new Set<string>();
  for (const [printed, recorded] of pairs) {
    if (!looksLikeArray(printed) || !looksLikeArray(recorded)) continue;
    const [row] = await adminQuery<{ same: boolean }>(server?.adminUrl ?? '', `select ${literal(printed)}::text[] = ${literal(recorded)}::text[] as same`);
    if (row?.same === true) same.add(`${printed}\u0000${recorded}`);
  }
  return same;
}

describe('cases beyond the client suite', () => {
  const withClient = async (run: (client: pg.Client) => Promise<void>): Promise<void> => {
    const client = new pg.Client(pgConfig(target().target));
    client.on('error', () => {});
    await client.connect();
    try {
      await run(client);
    } finally {
      await client.end();
    }
  };

  it('refusals at Parse and Bind, syntax errors inside multi-statement strings, empty and comment-only queries', async () => {
    await withClient(async (client) => {
      expect(await sqlstateOf(client.query('select 1 as a; selec 2'))).toBe('42601');
      expect(await sqlstateOf(client.query(`select 'grüße 😀' as a; select 2; selec 3; select 4`))).toBe('42601');
      expect(await sqlstateOf(client.query('select 1 as a; select 1/0; select 3'))).toBe('22012');
      expect(await sqlstateOf(client.query({ text: 'selec $1::int', values: [1] }))).toBe('42601');
      expect((await client.query('select $1::int as n', ['1'])).rows).toEqual([{ n: 1 }]);
      expect(await sqlstateOf(client.query('select $1::int as n', ['not a number']))).toBe('22P02');
      expect(await sqlstateOf(client.query({ name: 'fidelity_named', text: 'select $1::int as n', values: ['x'] }))).toBe('22P02');
      expect(await sqlstateOf(client.query(''))).toBe('no error');
      expect(await sqlstateOf(client.query('-- only a comment'))).toBe('no error');
      expect(await sqlstateOf(client.query('select 1 as a; -- trailing comment'))).toBe('no error');
      expect((await client.query({ text: "select $1::text as t, 'it''s' as q", values: ["o'neil"] })).rows).toEqual([{ t: "o'neil", q: "it's" }]);
    });
  });
});

describe('audit fidelity against the server\'s own statement log', () => {
  it('every statement the server logged for the lease user has exactly one jitgate event, in order, text and parameters', async () => {
    if (server === undefined) throw new Error('setup failed');
    const { instance, grant } = target();
    const lease = await instance.handle.store.getLeaseByGrant(grant.id as GrantId);
    if (lease === undefined) throw new Error('the grant has no lease: did any scenario run?');
    // The collector writes asynchronously: a marker from the admin, logged after every client finished, says all is in.
    const logPath = join(server.dir, 'statements.json');
    const marker = `fidelity marker ${Date.now()}`;
    await adminQuery(server.adminUrl, `select ${literal(marker)}`);
    for (let waited = 0; !(await logContains(logPath, marker)); waited += 50) {
      if (waited > 10_000) throw new Error('the marker never reached the server log');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await instance.handle.audit.flush();

    const { sessions: logged, resets } = splitAtServerResets(await readLoggedStatements(logPath, lease.username));
    const events: AuditStatement[] = [];
    for (let after = 0; ;) {
      const page = await instance.handle.store.readAuditEvents(after, 5_000);
      if (page.length === 0) break;
      after = page.at(-1)?.seq ?? after;
      for (const stored of page) if (stored.type === 'statement') events.push(JSON.parse(stored.body) as AuditStatement);
    }

    // Array literals that differ only in quoting are settled by the server first; the diff then runs with that answer.
    const differing = new Map<string, readonly [string, string]>();
    compareAudit(logged, events, (printed, recorded) => {
      differing.set(`${printed}\u0000${recorded}`, [printed, recorded]);
      return false;
    });
    const equivalent = await sameArrays([...differing.values()]);
    const used = new Set<string>();
    const report = compareAudit(logged, events, (printed, recorded) => {
      const key = `${printed}\u0000${recorded}`;
      if (equivalent.has(key)) used.add(key);
      return equivalent.has(key);
    });

    const byKind = (kind: string): number => logged.reduce((sum, session) => sum + session.statements.filter((s) => s.kind === kind).length, 0);
    const sample = (text: string): string => (text.length > 160 ? `${text.slice(0, 160)}… (${text.length} chars)` : text);
    console.log(`[audit fidelity] lease user ${lease.username}: the server logged ${report.loggedLines} statements `
      + `(${byKind('simple')} simple Query strings, ${byKind('extended')} executes, ${byKind('rejected')} refused) in ${report.loggedSessions} sessions; `
      + `jitgate recorded ${report.recordedEvents} statement events in ${report.recordedSessions} sessions; `
      + `missing ${report.missing.length}, extra ${report.extra.length}; `
      + `parameters equal as arrays only: ${[...used].map((key) => key.split('\u0000').reverse().join(' → ')).join(', ') || 'none'}`);
    for (const { session, statement } of report.missing.slice(0, 10)) console.log(`  missing (${session}): ${statement.kind} ${sample(statement.sql)}`);
    for (const event of report.extra.slice(0, 10)) console.log(`  extra (${event.session} #${event.seq}): ${event.kind} ${sample(event.sql)} ${event.error?.code ?? ''}`);

    expect(report.loggedLines).toBeGreaterThan(2_500); // the whole suite ran: two 1000-query scenarios among others
    expect(byKind('rejected')).toBeGreaterThanOrEqual(8);
    expect(report.recordedSessions).toBe(report.loggedSessions);
    console.log(`[audit fidelity] ${resets} times a client left cleanly and its server connection was reset (DISCARD ALL) for reuse`);
    expect(resets).toBeLessThanOrEqual(report.recordedSessions);
    expect({ missing: report.missing.length, extra: report.extra.length }).toEqual({ missing: 0, extra: 0 });
  }, 60_000);
});
