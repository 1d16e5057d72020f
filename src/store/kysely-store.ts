// The Store over Kysely: one implementation for SQLite and PostgreSQL. What the dialects do differently (how the audit
// chain is locked, whether row locks can be skipped) comes in as a small DialectHooks object from sqlite.ts/postgres.ts.
import type { Kysely, Selectable, Transaction } from 'kysely';
import { OPEN_GRANT_STATES, type Grant, type GrantDecision, type GrantState } from '../access/grant.js';
import type { GrantId, SessionId } from '../access/ids.js';
import { chainBatch } from '../audit/chain.js';
import { bodyAt, columnsOf, eventCount, pendingAt, storedFromAssignment, type AuditBatchColumns, type ChainAssignment } from '../audit/records.js';
import * as leases from './leases.js';
import { migrateToLatest } from './migrations.js';
import * as review from './review-queries.js';
import {
  ALL_GRANT_STATES, auditEventToRow, decisionToRow, grantPatchToColumns, grantToRow, parseGrantState, rowToAuditEvent,
  rowToDecision, rowToGrant, rowToSession, sessionPatchToColumns, sessionToRow, toMs,
} from './rows.js';
import type {
  AuditChainHead, ExpiredGrant, GrantFilter, GrantPatch, LeaseFilter, LeaseRecord, PendingAuditEvent, RevocationProgress,
  SessionFilter, SessionPatch, SessionRecord, StatementMatch, StatementPageQuery, StatementSearchQuery, Store, StoredAuditEvent,
} from './store.js';
import type { AuditEventsTable, Database, GrantsTable, SessionsTable } from './tables.js';

export interface DialectHooks {
  readonly kind: Store['kind'];
  /** Runs first inside the append transaction, so instances sharing the store extend the chain one at a time. */
  lockAuditChain(trx: Transaction<Database>): Promise<void>;
  /** PostgreSQL lets concurrent reapers skip each other's locked rows instead of queueing behind them. */
  readonly skipLockedRows: boolean;
  /** How statement search spells case-insensitive LIKE and reads the SQL out of an event body. */
  readonly textSearch: review.TextSearchDialect;
  /**
   * The audit hot path past Kysely (SQLite: prepared statements, on a worker thread for a file). Returns undefined
   * when it cannot run now (a Kysely transaction is open), and the Kysely path is taken instead.
   */
  readonly appendAuditColumns?: (columns: AuditBatchColumns) => ChainAssignment | Promise<ChainAssignment> | undefined;
  /** Session record writes past Kysely (SQLite file: on the same worker as the audit appends). */
  readonly insertSession?: (row: SessionsTable) => Promise<void>;
  readonly updateSession?: (id: string, columns: Partial<Omit<SessionsTable, 'id'>>) => Promise<void>;
  /** Releases what the hooks hold (the audit worker), before the Kysely connection is destroyed. */
  readonly close?: () => Promise<void>;
}



// 10 bound parameters per audit row: 500 rows stay far below SQLite's 32766 and PostgreSQL's 65535 parameter limits.
const AUDIT_ROWS_PER_INSERT = 500;
const IDS_PER_IN_LIST = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

type Executor = Kysely<Database> | Transaction<Database>;

export class KyselyStore implements Store {
  readonly kind: Store['kind'];

  private constructor(private readonly db: Kysely<Database>, private readonly hooks: DialectHooks) {
    this.kind = hooks.kind;
  }

  /** Migrates to the latest schema, then hands out the store; destroys `db` if migration fails. */
  static async open(db: Kysely<Database>, hooks: DialectHooks): Promise<KyselyStore> {
    try {
      await migrateToLatest(db, hooks.kind);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return new KyselyStore(db, hooks);
  }

  async insertGrant(grant: Grant): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('grants').values(grantToRow(grant)).execute();
      if (grant.decisions.length > 0) {
        await trx.insertInto('grant_decisions').values(grant.decisions.map((d) => decisionToRow(grant.id, d))).execute();
      }
    });
  }

  async getGrant(id: GrantId): Promise<Grant | undefined> {
    const row = await this.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : (await this.withDecisions(this.db, [row]))[0];
  }

  async listGrants(filter: GrantFilter = {}): Promise<Grant[]> {
    let query = this.db.selectFrom('grants').selectAll();
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    if (filter.requester !== undefined) query = query.where('requester', '=', filter.requester);
    if (filter.resource !== undefined) query = query.where('resource', '=', filter.resource);
    query = query.orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return this.withDecisions(this.db, await query.execute());
  }

  async updateGrant(id: GrantId, expectedVersion: number, patch: GrantPatch): Promise<Grant | undefined> {
    const row = await this.db.updateTable('grants')
      .set({ ...grantPatchToColumns(patch), version: expectedVersion + 1 })
      .where('id', '=', id)
      .where('version', '=', expectedVersion)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : (await this.withDecisions(this.db, [row]))[0];
  }

  async addDecision(id: GrantId, decision: GrantDecision): Promise<void> {
    await this.db.insertInto('grant_decisions').values(decisionToRow(id, decision)).execute();
  }

  async nextGrantExpiry(): Promise<Date | undefined> {
    const row = await this.db.selectFrom('grants')
      .select((eb) => eb.fn.min('expires_at').as('next'))
      .where('state', 'in', OPEN_GRANT_STATES)
      .executeTakeFirst();
    const next = row?.next;
    return next === undefined || next === null ? undefined : new Date(Number(next));
  }

  async endDueGrants(now: Date): Promise<ExpiredGrant[]> {
    const nowMs = toMs(now);
    return this.db.transaction().execute(async (trx) => {
      // Lock the due rows first (PostgreSQL: rows another reaper holds are skipped; SQLite: the transaction already
      // holds the write lock), so each grant is ended, and returned, by exactly one caller.
      let dueQuery = trx.selectFrom('grants').select(['id', 'state'])
        .where('state', 'in', OPEN_GRANT_STATES)
        .where('expires_at', '<=', nowMs);
      if (this.hooks.skipLockedRows) dueQuery = dueQuery.forUpdate().skipLocked();
      const due = await dueQuery.execute();
      const previousStates = new Map(due.map((row) => [row.id, parseGrantState(row.state)]));

      const ended: Selectable<GrantsTable>[] = [];
      for (const ids of chunks([...previousStates.keys()], IDS_PER_IN_LIST)) {
        const rows = await trx.updateTable('grants')
          .set((eb) => ({ state: 'ended', end_reason: 'expired', ended_at: nowMs, version: eb('version', '+', 1) }))
          .where('id', 'in', ids)
          .where('state', 'in', OPEN_GRANT_STATES)
          .returningAll()
          .execute();
        ended.push(...rows);
      }
      const grants = await this.withDecisions(trx, ended);
      return grants.map((grant) => {
        const previousState = previousStates.get(grant.id);
        if (previousState === undefined) throw new Error(`store: ended grant ${grant.id} was not among the due grants`);
        return { ...grant, previousState };
      });
    });
  }

  async countGrantsByState(): Promise<Record<GrantState, number>> {
    const rows = await this.db.selectFrom('grants')
      .select((eb) => ['state', eb.fn.countAll().as('count')])
      .groupBy('state')
      .execute();
    const counts = Object.fromEntries(ALL_GRANT_STATES.map((state) => [state, 0])) as Record<GrantState, number>;
    for (const row of rows) counts[parseGrantState(row.state)] = Number(row.count);
    return counts;
  }

  async appendAuditEvents(events: readonly PendingAuditEvent[]): Promise<StoredAuditEvent[]> {
    if (events.length === 0) return [];
    const columns = columnsOf(events);
    return storedFromAssignment(columns, await this.appendAuditColumns(columns));
  }

  async appendAuditColumns(columns: AuditBatchColumns): Promise<ChainAssignment> {
    const count = eventCount(columns);
    const appended = count === 0 ? undefined : this.hooks.appendAuditColumns?.(columns);
    if (appended !== undefined) return appended;
    return this.db.transaction().execute(async (trx) => {
      await this.hooks.lockAuditChain(trx);
      const rows: AuditEventsTable[] = [];
      const assignment = chainBatch(await this.readHead(trx), count, (index) => bodyAt(columns, index),
        (index, seq, prev, hash) => rows.push(auditEventToRow({ ...pendingAt(columns, index), seq, prev, hash })));
      for (const batch of chunks(rows, AUDIT_ROWS_PER_INSERT)) await trx.insertInto('audit_events').values(batch).execute();
      return assignment;
    });
  }

  auditHead(): Promise<AuditChainHead | undefined> {
    return this.readHead(this.db);
  }

  async readAuditEvents(afterSeq: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(rowToAuditEvent);
  }

  async readSessionEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll()
      .where('session_id', '=', sessionId)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(rowToAuditEvent);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    if (this.hooks.insertSession !== undefined) return this.hooks.insertSession(sessionToRow(session));
    await this.db.insertInto('sessions').values(sessionToRow(session)).execute();
  }

  async updateSession(id: SessionId, patch: SessionPatch): Promise<void> {
    const columns = sessionPatchToColumns(patch);
    if (Object.keys(columns).length === 0) return;
    if (this.hooks.updateSession !== undefined) return this.hooks.updateSession(id, columns as Partial<Omit<SessionsTable, 'id'>>);
    await this.db.updateTable('sessions').set(columns).where('id', '=', id).execute();
  }

  async getSession(id: SessionId): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : rowToSession(row);
  }

  listSessions(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    return review.listSessions(this.db, filter);
  }

  readSessionStatements(sessionId: string, page: StatementPageQuery): Promise<StoredAuditEvent[]> {
    return review.readSessionStatements(this.db, sessionId, page);
  }

  countSessionStatements(sessionIds: readonly string[]): Promise<Map<string, number>> {
    return review.countSessionStatements(this.db, sessionIds);
  }

  searchStatements(query: StatementSearchQuery): Promise<StatementMatch[]> {
    return review.searchStatements(this.db, this.hooks.textSearch, query);
  }

  insertLease(lease: LeaseRecord): Promise<void> {
    return leases.insertLease(this.db, lease);
  }

  getLeaseByGrant(grantId: GrantId): Promise<LeaseRecord | undefined> {
    return leases.getLeaseByGrant(this.db, grantId);
  }

  listLeases(filter?: LeaseFilter): Promise<LeaseRecord[]> {
    return leases.listLeases(this.db, filter);
  }

  markLeaseRevoking(leaseId: string, progress: RevocationProgress): Promise<boolean> {
    return leases.markLeaseRevoking(this.db, leaseId, progress);
  }

  markLeaseRevoked(leaseId: string, at: Date): Promise<boolean> {
    return leases.markLeaseRevoked(this.db, leaseId, at);
  }

  updateLeaseExpiry(leaseId: string, expiresAt: Date): Promise<boolean> {
    return leases.updateLeaseExpiry(this.db, leaseId, expiresAt);
  }

  async claimDeploymentId(candidate: string, at: Date): Promise<string> {
    // Insert-or-keep, then read: two instances starting together on an empty store agree on whichever landed first.
    await this.db.insertInto('deployment').values({ singleton: 1, id: candidate, created_at: toMs(at) })
      .onConflict((conflict) => conflict.column('singleton').doNothing())
      .execute();
    const row = await this.db.selectFrom('deployment').select('id').where('singleton', '=', 1).executeTakeFirstOrThrow();
    return row.id;
  }

  async close(): Promise<void> {
    try {
      await this.hooks.close?.();
    } finally {
      await this.db.destroy();
    }
  }

  private async readHead(executor: Executor): Promise<AuditChainHead | undefined> {
    const row = await executor.selectFrom('audit_events').select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { seq: row.seq, hash: row.hash };
  }

  /** Attaches each grant's decisions, in the order they were appended, with one query per chunk of grants. */
  private async withDecisions(executor: Executor, rows: readonly Selectable<GrantsTable>[]): Promise<Grant[]> {
    const decisions = new Map<string, GrantDecision[]>();
    for (const ids of chunks(rows.map((row) => row.id), IDS_PER_IN_LIST)) {
      const decisionRows = await executor.selectFrom('grant_decisions')
        .select(['grant_id', 'actor', 'decision', 'comment', 'at'])
        .where('grant_id', 'in', ids)
        .orderBy('id', 'asc')
        .execute();
      for (const row of decisionRows) {
        const list = decisions.get(row.grant_id) ?? [];
        list.push(rowToDecision(row));
        decisions.set(row.grant_id, list);
      }
    }
    return rows.map((row) => rowToGrant(row, decisions.get(row.id) ?? []));
  }
}
