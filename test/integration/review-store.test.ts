// The store's review queries (issue 8) on both dialects: keyset paging over ties, the list filters, statement pages
// in both directions, live counts, and SQL text search with LIKE wildcards taken literally. On SQLite the query
// plans are checked too: each page must be an index range, never a scan of every session or event.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import SqliteDatabase from 'better-sqlite3';
import type { GrantId, SessionId } from '../../src/access/ids.js';
import { newGrantId, newSessionId } from '../../src/access/ids.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { openStore } from '../../src/store/open.js';
import type { SessionRecord, Store } from '../../src/store/store.js';
import { createPgDatabase, type ScratchDatabase } from '../support/databases.js';

const T0 = Date.parse('2025-03-01T00:00:00.000Z');
const SQL_TEXTS = [
  'select 1',
  "select '100%_done' as \"quoted\"",
  'SELECT Name FROM Users WHERE note = \'line one\nline two\' -- back\\slash',
  'update t set x = 1',
  "select 'a!b'",
];

function grantRow(id: GrantId) {
  return {
    id, resource: 'db', role: 'ro', requester: 'dev', reason: '', policy: 'p', state: 'approved' as const, endReason: null,
    ttlSeconds: 60, approvalsRequired: 0, approverGroups: [], createdAt: new Date(T0), approvedAt: new Date(T0), activatedAt: null,
    expiresAt: new Date(T0 + 60_000), endedAt: null, verifiers: { scramSha256: 'x', sha256Double: 'x', sha1Double: 'x' }, decisions: [], version: 1,
  };
}

async function seed(store: Store) {
  const grants = [newGrantId(), newGrantId()];
  for (const id of grants) await store.insertGrant(grantRow(id));
  const sessions: SessionRecord[] = [];
  // 250 sessions, five per millisecond: ties on started_at, so paging must order by id too.
  for (let index = 0; index < 250; index++) {
    const session: SessionRecord = {
      id: newSessionId(), grantId: grants[index % 2] as GrantId, resource: index % 5 === 0 ? 'other' : 'db', role: 'ro',
      user: index % 2 === 0 ? 'dev' : 'ops', protocol: 'postgres', clientAddress: '127.0.0.1:1', clientProgram: null, tls: false,
      startedAt: new Date(T0 + Math.floor(index / 5)), endedAt: index % 3 === 0 ? null : new Date(T0 + 10_000), endReason: index % 3 === 0 ? null : 'client_closed',
      bytesIn: 0, bytesOut: 0, statements: 0,
    };
    await store.insertSession(session);
    sessions.push(session);
  }
  const target = sessions[0] as SessionRecord;
  const events = Array.from({ length: 60 }, (_, index) => {
    const sql = SQL_TEXTS[index % SQL_TEXTS.length] ?? '';
    const body = {
      id: `e_${String(index).padStart(20, 'a')}`, ts: new Date(T0 + index).toISOString(), type: index === 30 ? 'session.started' : 'statement',
      session: target.id, grant: target.grantId, seq: index + 1, kind: 'query', sql, started: new Date(T0 + index).toISOString(), duration_us: 5,
      params: ['users'], ...(index % 7 === 0 ? { error: { code: '42601', message: 'syntax error' } } : { tag: 'SELECT 1' }),
    };
    return { id: body.id, ts: new Date(T0 + index), type: body.type, grantId: target.grantId, sessionId: target.id, actor: null, body: canonicalJson(body) };
  });
  await store.appendAuditEvents(events);
  return { sessions, target };
}

const dialects: [string, () => Promise<{ store: Store; cleanup: () => Promise<void>; file?: string }>][] = [
  ['sqlite', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jitgate-review-store-')), 'store.db');
    const store = await openStore(`sqlite:${file}`);
    return { store, file, cleanup: () => store.close() };
  }],
  ['postgres', async () => {
    const db: ScratchDatabase = await createPgDatabase('review_store');
    const store = await openStore(db.url);
    return { store, cleanup: async () => { await store.close(); await db.drop(); } };
  }],
];

describe.each(dialects)('review queries on %s', (dialect, open) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let file: string | undefined;
  let sessions: SessionRecord[];
  let target: SessionRecord;

  beforeAll(async () => {
    ({ store, cleanup, file } = await open());
    ({ sessions, target } = await seed(store));
  });
  afterAll(async () => cleanup?.());

  const newestFirst = (list: readonly SessionRecord[]) =>
    [...list].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((s) => s.id);

  it('pages through every session exactly once with the keyset cursor', async () => {
    const seen: string[] = [];
    let before: { startedAt: Date; id: string } | undefined;
    for (;;) {
      const page = await store.listSessions({ limit: 7, ...(before ? { before } : {}) });
      seen.push(...page.map((session) => session.id));
      const last = page.at(-1);
      if (!last || page.length < 7) break;
      before = { startedAt: last.startedAt, id: last.id };
    }
    expect(seen).toEqual(newestFirst(sessions));
  });

  it('filters by grant, resource, user, window and open/ended, combined', async () => {
    const expect1 = sessions.filter((s) => s.user === 'dev' && s.resource === 'db' && s.endedAt === null
      && s.startedAt.getTime() >= T0 + 10 && s.startedAt.getTime() < T0 + 40);
    const got = await store.listSessions({ user: 'dev', resource: 'db', active: true, since: new Date(T0 + 10), until: new Date(T0 + 40) });
    expect(got.map((s) => s.id)).toEqual(newestFirst(expect1));
    expect(got.length).toBeGreaterThan(0);
    const ended = await store.listSessions({ grantId: target.grantId, active: false });
    expect(ended.map((s) => s.id)).toEqual(newestFirst(sessions.filter((s) => s.grantId === target.grantId && s.endedAt !== null)));
  });

  it('reads statement pages forwards, backwards and errors only, skipping other event types', async () => {
    const first = await store.readSessionStatements(target.id, { limit: 10 });
    expect(first.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const after = await store.readSessionStatements(target.id, { afterSeq: 28, limit: 3 });
    expect(after.map((event) => event.seq)).toEqual([29, 30, 32]);
    const back = await store.readSessionStatements(target.id, { beforeSeq: 33, limit: 3 });
    expect(back.map((event) => event.seq)).toEqual([29, 30, 32]);
    const errors = await store.readSessionStatements(target.id, { limit: 100, errorsOnly: true });
    expect(errors.map((event) => event.seq)).toEqual([1, 8, 15, 22, 29, 36, 43, 50, 57]);
    expect(await store.countSessionStatements([target.id, sessions[1]?.id ?? ''])).toEqual(new Map([[target.id, 59]]));
  });

  it('searches SQL text case-insensitively, with %, _, !, quotes, newlines and backslashes literal', async () => {
    const sqlOf = async (text: string, extra: { beforeSeq?: number; limit?: number } = {}) =>
      (await store.searchStatements({ text, limit: extra.limit ?? 100, ...(extra.beforeSeq ? { beforeSeq: extra.beforeSeq } : {}) }))
        .map((match) => match.event.seq);
    const every = (index: number) => Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 5 === index && i !== 30).map((i) => i + 1).reverse();
    expect(await sqlOf('100%_done')).toEqual(every(1));
    expect(await sqlOf('0%d')).toEqual([]);
    expect(await sqlOf('_')).toEqual(every(1));
    expect(await sqlOf('"QUOTED"')).toEqual(every(1));
    expect(await sqlOf("one\nline")).toEqual(every(2));
    expect(await sqlOf('back\\slash')).toEqual(every(2));
    expect(await sqlOf('a!b')).toEqual(every(4));
    expect(await sqlOf('users')).toEqual(every(2)); // also a parameter of every event: only the SQL counts
    expect(await sqlOf('select', { limit: 2 })).toHaveLength(2);
    expect(await sqlOf('select 1', { beforeSeq: 20 })).toEqual([16, 11, 6, 1]);
    const [match] = await store.searchStatements({ text: 'update', user: target.user, resource: target.resource, limit: 1 });
    expect(match).toMatchObject({ user: target.user, resource: target.resource, event: { sessionId: target.id as SessionId } });
  });

  // PostgreSQL's planner picks sequential scans for tables this small, so only SQLite's plans say something here.
  if (dialect === 'sqlite') it('answers every review query from an index (SQLite query plans)', async () => {
    const db = new SqliteDatabase(file ?? '', { readonly: true });
    const plan = (query: string, ...params: unknown[]): string =>
      (db.prepare(`explain query plan ${query}`).all(...params) as { detail: string }[]).map((row) => row.detail).join(' | ');
    try {
      const page = 'select * from sessions where (started_at, id) < (?, ?) order by started_at desc, id desc limit 100';
      expect(plan(page, T0, 's_x')).toMatch(/USING INDEX sessions_started_at_id_idx/);
      expect(plan(page.replace('where', 'where user_name = ? and'), 'dev', T0, 's_x')).toMatch(/USING INDEX sessions_user_name_started_at_idx/);
      expect(plan('select * from sessions where ended_at is null order by started_at desc, id desc limit 100')).toMatch(/USING INDEX sessions_open_started_at_idx/);
      expect(plan("select * from audit_events where session_id = ? and type = 'statement' and seq > ? order by seq limit 500", 's', 0))
        .toMatch(/USING INDEX audit_events_session_type_seq_idx/);
      expect(plan("select count(*) from audit_events where session_id in (?) and type = 'statement' group by session_id", 's'))
        .toMatch(/USING COVERING INDEX audit_events_session_type_seq_idx/);
      expect(plan("select * from audit_events where type = 'statement' and seq < ? order by seq desc limit 100", 10))
        .toMatch(/SEARCH audit_events USING INTEGER PRIMARY KEY \(rowid<\?\)/); // statement search walks the chain order
    } finally {
      db.close();
    }
  });
});
