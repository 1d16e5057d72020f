// The Store contract: the same assertions for every implementation, each test on a fresh, empty location from the
// target. test/integration/store-contract.test.ts runs it against SQLite and PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GrantState } from '../../src/access/grant.js';
import type { SessionId } from '../../src/access/ids.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { registerLeaseCases } from './store-contract-leases.js';
import { T0, at, chainProblems, makeEvents, makeGrant, makeSession } from './store-fixtures.js';

export interface StoreLocation {
  readonly url: string;
  drop(): Promise<void>;
}

export interface StoreTarget {
  readonly name: string;
  /** A fresh, empty place for a store; every openStore() of its url sees the same data. */
  newLocation(): Promise<StoreLocation>;
  /**
   * Whether two Store instances in this process may write at once. PostgreSQL: yes. SQLite: better-sqlite3 waits for
   * another connection's lock synchronously, blocking the event loop that would release it, so concurrency there is
   * exercised through one instance (one jitgate process per file; other processes are serialised by BEGIN IMMEDIATE).
   */
  readonly concurrentInstances: boolean;
}

/** Registers the whole contract as one describe block for `target`. */
export function describeStoreContract(target: StoreTarget): void {
  describe(`Store contract: ${target.name}`, () => {
    let location: StoreLocation;
    let opened: Store[] = [];
    const open = async (): Promise<Store> => {
      const store = await openStore(location.url);
      opened.push(store);
      return store;
    };
    const closeStore = async (store: Store): Promise<void> => {
      opened = opened.filter((candidate) => candidate !== store);
      await store.close();
    };
    /** Two writers on one location: two instances where the dialect allows it, else the same one twice. */
    const twoWriters = async (): Promise<[Store, Store]> => {
      const first = await open();
      return [first, target.concurrentInstances ? await open() : first];
    };

    beforeEach(async () => {
      location = await target.newLocation();
    });
    afterEach(async () => {
      await Promise.all(opened.map((store) => store.close()));
      opened = [];
      await location.drop();
    });

    it('migrates on open, idempotently: data survives a reopen', async () => {
      // Where instances can share a store, they may also start together on an empty one: the migration runs once.
      const first = target.concurrentInstances ? (await Promise.all([open(), open(), open()]))[0] : await open();
      if (first === undefined) throw new Error('no store opened');
      expect(first.kind).toBe(target.name);
      const grant = makeGrant();
      await first.insertGrant(grant);
      await first.appendAuditEvents(makeEvents(2));
      await closeStore(first);

      const reopened = await open();
      expect(await reopened.getGrant(grant.id)).toEqual(grant);
      expect((await reopened.auditHead())?.seq).toBe(2);
    });

    it('round-trips a grant with every field, times exact to the millisecond', async () => {
      const store = await open();
      const full = makeGrant({
        state: 'ended', endReason: 'revoked', approvalsRequired: 2, version: 7,
        approvedAt: at(1), activatedAt: at(2), expiresAt: at(3_600_003), endedAt: at(999),
        decisions: [
          { actor: 'alice', decision: 'approve', comment: 'ok', at: at(1) },
          { actor: 'bob', decision: 'approve', comment: '', at: at(1) },
        ],
      });
      const bare = makeGrant({ approverGroups: [], approvalsRequired: 0 });
      await store.insertGrant(full);
      await store.insertGrant(bare);

      const got = await store.getGrant(full.id);
      expect(got).toEqual(full);
      expect(got?.createdAt.getTime()).toBe(T0.getTime());
      expect(got?.endedAt?.getTime()).toBe(at(999).getTime());
      expect(await store.getGrant(bare.id)).toEqual(bare);
      expect(await store.getGrant(makeGrant().id)).toBeUndefined();
    });

    it('lists grants newest first, filtered by state, requester and resource', async () => {
      const store = await open();
      const a = makeGrant({ createdAt: at(1), requester: 'dev', resource: 'orders-pg', state: 'pending' });
      const b = makeGrant({ createdAt: at(2), requester: 'ops', resource: 'orders-pg', state: 'active' });
      const c = makeGrant({ createdAt: at(3), requester: 'dev', resource: 'billing-mysql', state: 'active' });
      for (const grant of [b, a, c]) await store.insertGrant(grant);
      const ids = async (filter?: Parameters<Store['listGrants']>[0]): Promise<string[]> =>
        (await store.listGrants(filter)).map((grant) => grant.id);

      expect(await ids()).toEqual([c.id, b.id, a.id]);
      expect(await ids({ state: 'active' })).toEqual([c.id, b.id]);
      expect(await ids({ requester: 'dev' })).toEqual([c.id, a.id]);
      expect(await ids({ resource: 'orders-pg', state: 'active' })).toEqual([b.id]);
      expect(await ids({ limit: 2 })).toEqual([c.id, b.id]);
      expect(await ids({ state: 'denied' })).toEqual([]);
      expect((await store.listGrants({ requester: 'ops' }))[0]).toEqual(b);
    });

    it('updates a grant only when the version still matches', async () => {
      const [a, b] = await twoWriters();
      const grant = makeGrant({ version: 3 });
      await a.insertGrant(grant);

      const approved = await a.updateGrant(grant.id, 3, { state: 'approved', approvedAt: at(10), expiresAt: at(3_600_010) });
      expect(approved).toEqual({ ...grant, state: 'approved', approvedAt: at(10), expiresAt: at(3_600_010), version: 4 });
      expect(await a.updateGrant(grant.id, 3, { state: 'denied' })).toBeUndefined(); // stale version loses
      expect(await a.getGrant(grant.id)).toEqual(approved);

      const cleared = await a.updateGrant(grant.id, 4, { approvedAt: null, endReason: null });
      expect(cleared?.approvedAt).toBeNull();
      expect(cleared?.expiresAt).toEqual(at(3_600_010)); // fields the patch does not name are kept

      const race = await Promise.all([
        a.updateGrant(grant.id, 5, { state: 'active', activatedAt: at(20) }),
        b.updateGrant(grant.id, 5, { state: 'ended', endReason: 'revoked', endedAt: at(20) }),
      ]);
      expect(race.filter((result) => result !== undefined)).toHaveLength(1);
      expect((await a.getGrant(grant.id))?.version).toBe(6);
    });

    it('appends decisions as rows and returns them in order with the grant', async () => {
      const store = await open();
      const grant = makeGrant({ approvalsRequired: 2 });
      await store.insertGrant(grant);
      await store.addDecision(grant.id, { actor: 'alice', decision: 'approve', comment: 'first', at: at(20) });
      await store.addDecision(grant.id, { actor: 'bob', decision: 'deny', comment: 'second', at: at(10) });
      const decisions = (await store.getGrant(grant.id))?.decisions;
      expect(decisions).toEqual([
        { actor: 'alice', decision: 'approve', comment: 'first', at: at(20) },
        { actor: 'bob', decision: 'deny', comment: 'second', at: at(10) },
      ]);
      expect((await store.listGrants())[0]?.decisions).toEqual(decisions);
      await expect(store.addDecision(makeGrant().id, { actor: 'x', decision: 'approve', comment: '', at: T0 }))
        .rejects.toThrow(); // decisions belong to a grant that exists
    });

    it('nextGrantExpiry is the earliest expiry among open grants', async () => {
      const store = await open();
      expect(await store.nextGrantExpiry()).toBeUndefined();
      await store.insertGrant(makeGrant({ state: 'ended', endReason: 'revoked', expiresAt: at(1) }));
      await store.insertGrant(makeGrant({ state: 'denied', expiresAt: at(2) }));
      expect(await store.nextGrantExpiry()).toBeUndefined();
      await store.insertGrant(makeGrant({ state: 'active', expiresAt: at(30) }));
      await store.insertGrant(makeGrant({ state: 'pending', expiresAt: at(20) }));
      await store.insertGrant(makeGrant({ state: 'approved', expiresAt: at(40) }));
      expect(await store.nextGrantExpiry()).toEqual(at(20));
    });

    it('endDueGrants ends each due open grant exactly once, even with two concurrent callers', async () => {
      const [a, b] = await twoWriters();
      const now = at(100_000);
      const openStates: GrantState[] = ['pending', 'approved', 'active'];
      const due = Array.from({ length: 60 }, (_, index) =>
        makeGrant({ state: openStates[index % 3] ?? 'pending', expiresAt: at(index % 2 === 0 ? 100_000 : 50_000 + index) }));
      const notDue = [
        makeGrant({ state: 'active', expiresAt: at(100_001) }),
        makeGrant({ state: 'denied', expiresAt: at(1) }),
        makeGrant({ state: 'ended', endReason: 'revoked', endedAt: at(5), expiresAt: at(1) }),
      ];
      for (const grant of [...due, ...notDue]) await a.insertGrant(grant);

      const [first, second] = await Promise.all([a.endDueGrants(now), b.endDueGrants(now)]);
      const endedIds = [...first, ...second].map((grant) => grant.id);
      expect(new Set(endedIds).size).toBe(endedIds.length); // nobody got a grant twice
      expect(endedIds.sort()).toEqual(due.map((grant) => grant.id).sort());
      for (const ended of [...first, ...second]) {
        const before = due.find((grant) => grant.id === ended.id);
        expect(ended).toEqual({
          ...before, state: 'ended', endReason: 'expired', endedAt: now, version: 2, previousState: before?.state,
        });
      }
      expect(await a.endDueGrants(now)).toEqual([]);
      for (const grant of notDue) expect(await a.getGrant(grant.id)).toEqual(grant);
      expect(await a.nextGrantExpiry()).toEqual(at(100_001));
    });

    it('counts grants by state, every state present', async () => {
      const store = await open();
      expect(await store.countGrantsByState()).toEqual({ pending: 0, approved: 0, active: 0, denied: 0, ended: 0 });
      for (const state of ['pending', 'pending', 'active', 'denied'] as const) await store.insertGrant(makeGrant({ state }));
      expect(await store.countGrantsByState()).toEqual({ pending: 2, approved: 0, active: 1, denied: 1, ended: 0 });
    });

    it('chains audit batches: contiguous seq, prev = previous hash, head follows', async () => {
      const store = await open();
      expect(await store.auditHead()).toBeUndefined();
      expect(await store.appendAuditEvents([])).toEqual([]);
      const firstBatch = makeEvents(3, { grantId: 'g_x', actor: 'dev' });
      const first = await store.appendAuditEvents(firstBatch);
      expect(first.map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(first[0]?.prev).toBe('0'.repeat(64));
      expect(first.map((event, index) => ({ ...event, seq: 0, prev: '', hash: '', index })))
        .toEqual(firstBatch.map((event, index) => ({ ...event, seq: 0, prev: '', hash: '', index })));

      const second = await store.appendAuditEvents(makeEvents(2));
      expect(second.map((event) => event.seq)).toEqual([4, 5]);
      expect(second[0]?.prev).toBe(first[2]?.hash);
      expect(await store.auditHead()).toEqual({ seq: 5, hash: second[1]?.hash });
      const all = await store.readAuditEvents(0, 100);
      expect(all).toEqual([...first, ...second]);
      expect(chainProblems(all)).toEqual([]);
    });

    it('appends thousands of events in one batch and concurrent batches without a fork in the chain', async () => {
      const [a, b] = await twoWriters();
      const big = await a.appendAuditEvents(makeEvents(3_000));
      expect(big.at(-1)?.seq).toBe(3_000);
      await Promise.all([
        ...Array.from({ length: 4 }, () => a.appendAuditEvents(makeEvents(250))),
        ...Array.from({ length: 4 }, () => b.appendAuditEvents(makeEvents(250))),
      ]);
      const all = [];
      for (let page = await a.readAuditEvents(0, 1_000); page.length > 0; page = await a.readAuditEvents(page.at(-1)?.seq ?? 0, 1_000)) {
        all.push(...page);
      }
      expect(all).toHaveLength(5_000);
      expect(chainProblems(all)).toEqual([]);
      expect(await b.auditHead()).toEqual({ seq: 5_000, hash: all.at(-1)?.hash });
    });

    it('pages readAuditEvents by seq', async () => {
      const store = await open();
      await store.appendAuditEvents(makeEvents(25));
      const seqs = async (after: number, limit: number): Promise<number[]> =>
        (await store.readAuditEvents(after, limit)).map((event) => event.seq);
      expect(await seqs(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs(10, 10)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(await seqs(20, 10)).toEqual([21, 22, 23, 24, 25]);
      expect(await seqs(25, 10)).toEqual([]);
    });

    it('reads one session\'s events in chain order, paged', async () => {
      const store = await open();
      const mine = 's_aaaaaaaaaaaaaaaaaaaa';
      for (let round = 0; round < 3; round += 1) {
        await store.appendAuditEvents([
          ...makeEvents(2, { sessionId: mine }), ...makeEvents(1, { sessionId: 's_bbbbbbbbbbbbbbbbbbbb' }), ...makeEvents(1),
        ]);
      }
      const page1 = await store.readSessionEvents(mine, 0, 4);
      expect(page1.map((event) => event.seq)).toEqual([1, 2, 5, 6]);
      const page2 = await store.readSessionEvents(mine, page1.at(-1)?.seq ?? 0, 4);
      expect(page2.map((event) => event.seq)).toEqual([9, 10]);
      expect([...page1, ...page2].every((event) => event.sessionId === mine)).toBe(true);
      expect(await store.readSessionEvents('s_cccccccccccccccccccc', 0, 10)).toEqual([]);
    });

    it('inserts, updates and lists sessions', async () => {
      const store = await open();
      const g1 = makeGrant();
      const g2 = makeGrant({ resource: 'billing-mysql' });
      await store.insertGrant(g1);
      await store.insertGrant(g2);
      const s1 = makeSession(g1.id, { startedAt: at(1) });
      const s2 = makeSession(g1.id, { startedAt: at(2), user: 'jg_readonly_other', tls: false, clientProgram: null });
      const s3 = makeSession(g2.id, { startedAt: at(3), resource: 'billing-mysql', protocol: 'mysql' });
      for (const session of [s1, s2, s3]) await store.insertSession(session);
      expect(await store.getSession(s2.id)).toEqual(s2);
      expect(await store.getSession('s_dddddddddddddddddddd' as SessionId)).toBeUndefined();

      await store.updateSession(s1.id, { endedAt: at(500), endReason: 'client_closed', bytesIn: 5_000_000_000, bytesOut: 7, statements: 3 });
      await store.updateSession(s1.id, {}); // nothing to change is fine
      expect(await store.getSession(s1.id)).toEqual({
        ...s1, endedAt: at(500), endReason: 'client_closed', bytesIn: 5_000_000_000, bytesOut: 7, statements: 3,
      });

      const ids = async (filter?: Parameters<Store['listSessions']>[0]): Promise<string[]> =>
        (await store.listSessions(filter)).map((session) => session.id);
      expect(await ids()).toEqual([s3.id, s2.id, s1.id]);
      expect(await ids({ grantId: g1.id })).toEqual([s2.id, s1.id]);
      expect(await ids({ resource: 'billing-mysql' })).toEqual([s3.id]);
      expect(await ids({ user: 'jg_readonly_other' })).toEqual([s2.id]);
      expect(await ids({ since: at(2) })).toEqual([s3.id, s2.id]);
      expect(await ids({ grantId: g1.id, limit: 1 })).toEqual([s2.id]);
    });

    registerLeaseCases(open);
  });
}
