// The reading side of review (issue 8): session lists with keyset paging, a session's statements page by page, and
// text search over recorded SQL. Plain functions over Kysely, as leases.ts is; KyselyStore delegates to them. Every
// query is shaped for one index of migration 003, so a page costs the same on the 10th session and the 10,000th.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { rowToAuditEvent, rowToSession, toMs } from './rows.js';
import type {
  SessionFilter, SessionRecord, StatementMatch, StatementPageQuery, StatementSearchQuery, StoredAuditEvent,
} from './store.js';
import type { Database } from './tables.js';

/** What the two dialects spell differently for text search. */
export interface TextSearchDialect {
  /** SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE. */
  readonly caseInsensitiveLike: 'like' | 'ilike';
  /** The `sql` member of an audit event body (canonical JSON text) as text. */
  sqlOfBody(body: RawBuilder<string>): RawBuilder<string>;
}

const STATEMENT = 'statement';
const IDS_PER_IN_LIST = 500;
/** Only failed statements carry `error`, and canonical JSON writes the key exactly so (SQL text inside would be escaped). */
const HAS_ERROR_PATTERN = '%"error":{%';

/** `%text%` with the LIKE wildcards and the escape character itself made literal (`… escape '!'`). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[!%_]/g, (char) => `!${char}`)}%`;
}

export async function listSessions(db: Kysely<Database>, filter: SessionFilter): Promise<SessionRecord[]> {
  let query = db.selectFrom('sessions').selectAll();
  if (filter.grantId !== undefined) query = query.where('grant_id', '=', filter.grantId);
  if (filter.resource !== undefined) query = query.where('resource', '=', filter.resource);
  if (filter.user !== undefined) query = query.where('user_name', '=', filter.user);
  if (filter.since !== undefined) query = query.where('started_at', '>=', toMs(filter.since));
  if (filter.until !== undefined) query = query.where('started_at', '<', toMs(filter.until));
  if (filter.active === true) query = query.where('ended_at', 'is', null);
  if (filter.active === false) query = query.where('ended_at', 'is not', null);
  const before = filter.before;
  if (before !== undefined) {
    // A row value comparison, not `a < x or (a = x and b < y)`: both SQLite and PostgreSQL turn it into an index range.
    query = query.where((eb) => eb(eb.refTuple('started_at', 'id'), '<', eb.tuple(toMs(before.startedAt), before.id)));
  }
  query = query.orderBy('started_at', 'desc').orderBy('id', 'desc');
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  return (await query.execute()).map(rowToSession);
}

export async function readSessionStatements(db: Kysely<Database>, sessionId: string, page: StatementPageQuery): Promise<StoredAuditEvent[]> {
  let query = db.selectFrom('audit_events').selectAll()
    .where('session_id', '=', sessionId)
    .where('type', '=', STATEMENT);
  if (page.errorsOnly === true) query = query.where('body', 'like', HAS_ERROR_PATTERN);
  if (page.beforeSeq !== undefined) {
    const rows = await query.where('seq', '<', page.beforeSeq).orderBy('seq', 'desc').limit(page.limit).execute();
    return rows.reverse().map(rowToAuditEvent);
  }
  const rows = await query.where('seq', '>', page.afterSeq ?? 0).orderBy('seq', 'asc').limit(page.limit).execute();
  return rows.map(rowToAuditEvent);
}

export async function countSessionStatements(db: Kysely<Database>, sessionIds: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let start = 0; start < sessionIds.length; start += IDS_PER_IN_LIST) {
    const ids = sessionIds.slice(start, start + IDS_PER_IN_LIST);
    const rows = await db.selectFrom('audit_events')
      .select((eb) => ['session_id', eb.fn.countAll().as('count')])
      .where('session_id', 'in', ids)
      .where('type', '=', STATEMENT)
      .groupBy('session_id')
      .execute();
    for (const row of rows) if (row.session_id !== null) counts.set(row.session_id, Number(row.count));
  }
  return counts;
}

/**
 * Two tests per row: a LIKE on the whole body with the text as JSON escapes it (cheap, and it can only keep too much —
 * a match in the parameters or an error message), then the exact one on the extracted `sql` member. SQL text is data:
 * the pattern is a bound parameter with its wildcards escaped, never spliced into the query.
 */
export async function searchStatements(db: Kysely<Database>, dialect: TextSearchDialect, search: StatementSearchQuery): Promise<StatementMatch[]> {
  const like = sql.raw(dialect.caseInsensitiveLike);
  const body = sql<string>`${sql.ref('e.body')}`;
  const roughPattern = containsPattern(JSON.stringify(search.text).slice(1, -1));
  let query = db.selectFrom('audit_events as e')
    .leftJoin('sessions as s', 's.id', 'e.session_id')
    .selectAll('e')
    .select(['s.user_name', 's.resource'])
    .where('e.type', '=', STATEMENT)
    .where(sql<boolean>`${body} ${like} ${roughPattern} escape '!'`)
    .where(sql<boolean>`${dialect.sqlOfBody(body)} ${like} ${containsPattern(search.text)} escape '!'`);
  if (search.sessionId !== undefined) query = query.where('e.session_id', '=', search.sessionId);
  if (search.grantId !== undefined) query = query.where('e.grant_id', '=', search.grantId);
  if (search.resource !== undefined) query = query.where('s.resource', '=', search.resource);
  if (search.user !== undefined) query = query.where('s.user_name', '=', search.user);
  if (search.beforeSeq !== undefined) query = query.where('e.seq', '<', search.beforeSeq);
  const rows = await query.orderBy('e.seq', 'desc').limit(search.limit).execute();
  return rows.map(({ user_name, resource, ...row }) => ({ event: rowToAuditEvent(row), user: user_name, resource }));
}
