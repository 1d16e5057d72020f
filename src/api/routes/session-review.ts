// What the sessions API and the web UI share: who may see which session, keyset cursors, session rows with live
// statement counts, timeline pages, statement search, and ending a live session. Decisions live here once, so the
// two front doors cannot drift apart on a role check.
import type { GrantId } from '../../access/ids.js';
import { conflict, forbidden, notFound } from '../../access/errors.js';
import { isSessionId } from '../../access/ids.js';
import { isAdmin, isAuditor, type Identity } from '../../access/identity.js';
import type { Session } from '../../session/session.js';
import type { SessionCursor, SessionFilter, SessionRecord, StatementSearchQuery, Store } from '../../store/store.js';
import { sessionView } from '../views.js';
import { statementView, type StatementView } from './statement-view.js';

/** The live sessions of this process (the registry main.ts owns). */
export interface LiveSessions {
  sessionsOf(grantId: GrantId): Session[];
}

export type SessionRow = ReturnType<typeof sessionView> & {
  /** Connected to this jitgate process right now (it can be followed live and ended). */
  readonly live: boolean;
};

export interface SessionListPage {
  readonly sessions: SessionRow[];
  /** Opaque: pass as `cursor` for the next page; null on the last one. */
  readonly next: string | null;
}

export interface StatementPage {
  readonly statements: StatementView[];
  /** Pass as `after` for the following page; null on the last. */
  readonly next: number | null;
  /** Pass as `before` for the preceding page; null on the first. */
  readonly prev: number | null;
}

export interface TimelinePageQuery {
  readonly after?: number;
  readonly before?: number;
  /** The newest page (a live session's view starts there). */
  readonly last?: boolean;
  readonly limit: number;
  readonly errorsOnly?: boolean;
}

export type SessionListFilter = Omit<SessionFilter, 'before' | 'limit'>;

/** Auditors and admins see every session; anyone else only the sessions of their own grants. */
export const canSeeSession = (caller: Identity, session: SessionRecord): boolean => isAuditor(caller) || session.user === caller.name;

const CURSOR_PATTERN = /^(\d{1,15})\.(s_[a-z2-7]{20})$/;

export function encodeSessionCursor(cursor: SessionCursor): string {
  return Buffer.from(`${cursor.startedAt.getTime()}.${cursor.id}`).toString('base64url');
}

export function decodeSessionCursor(text: string): SessionCursor | undefined {
  const match = CURSOR_PATTERN.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!match?.[1] || !match[2]) return undefined;
  return { startedAt: new Date(Number(match[1])), id: match[2] };
}

export class SessionReview {
  constructor(private readonly store: Store, private readonly live: LiveSessions) {}

  /** A page of sessions newest first; a non-auditor's `user` filter is always themselves. */
  async list(caller: Identity, filter: SessionListFilter, limit: number, before?: SessionCursor): Promise<SessionListPage> {
    const scoped: SessionFilter = { ...filter, ...(isAuditor(caller) ? {} : { user: caller.name }), limit: limit + 1, ...(before ? { before } : {}) };
    const records = await this.store.listSessions(scoped);
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return {
      sessions: await this.rows(page),
      next: records.length > limit && last ? encodeSessionCursor({ startedAt: last.startedAt, id: last.id }) : null,
    };
  }

  /** The session, if the caller may see it; otherwise 404, so session ids cannot be probed. */
  async visible(caller: Identity, id: string): Promise<SessionRecord> {
    const session = isSessionId(id) ? await this.store.getSession(id) : undefined;
    if (!session || !canSeeSession(caller, session)) throw notFound(`no session ${id}`);
    return session;
  }

  async row(session: SessionRecord): Promise<SessionRow> {
    const [row] = await this.rows([session]);
    if (!row) throw new Error('session row vanished');
    return row;
  }

  /** Session rows with live facts: an open session's record counts statements only at its end, so count them now. */
  async rows(sessions: readonly SessionRecord[]): Promise<SessionRow[]> {
    const open = sessions.filter((session) => session.endedAt === null).map((session) => session.id);
    const counts = open.length > 0 ? await this.store.countSessionStatements(open) : new Map<string, number>();
    return sessions.map((session) => {
      const liveSession = this.liveSession(session);
      return {
        ...sessionView(session),
        ...(session.endedAt === null ? { statements: counts.get(session.id) ?? 0 } : {}),
        ...(liveSession ? { bytesIn: liveSession.bytesIn, bytesOut: liveSession.bytesOut } : {}),
        live: liveSession !== undefined,
      };
    });
  }

  /** One page of the timeline: from the start (or `after`), the page just before `before`, or the `last` page. */
  async statements(session: SessionRecord, page: TimelinePageQuery): Promise<StatementPage> {
    const backwards = page.before !== undefined || page.last === true;
    const events = await this.store.readSessionStatements(session.id, {
      ...(backwards ? { beforeSeq: page.before ?? Number.MAX_SAFE_INTEGER } : { afterSeq: page.after ?? 0 }),
      limit: page.limit + 1,
      errorsOnly: page.errorsOnly === true,
    });
    // One row more than asked says whether there is another page in the direction of travel.
    const more = events.length > page.limit;
    const shown = backwards ? events.slice(Math.max(0, events.length - page.limit)) : events.slice(0, page.limit);
    const statements = shown.map(statementView);
    const first = statements[0];
    const last = statements.at(-1);
    if (backwards) {
      // Going back from `before`, the statement at `before` itself still follows; the last page has nothing after it.
      return { statements, prev: more && first ? first.chainSeq : null, next: page.last !== true && last ? last.chainSeq : null };
    }
    return { statements, next: more && last ? last.chainSeq : null, prev: (page.after ?? 0) > 0 && first ? first.chainSeq : null };
  }

  /** Statement search is an auditor's tool: it reads across every user's sessions. */
  async search(caller: Identity, query: StatementSearchQuery) {
    if (!isAuditor(caller)) throw forbidden('searching statements needs the auditor or admin group');
    const matches = await this.store.searchStatements({ ...query, limit: query.limit + 1 });
    const page = matches.slice(0, query.limit);
    const last = page.at(-1);
    return {
      statements: page.map(({ event, user, resource }) => ({
        ...statementView(event), session: event.sessionId, grant: event.grantId, user, resource, ts: event.ts.toISOString(),
      })),
      next: matches.length > query.limit && last ? last.event.seq : null,
    };
  }

  /** Admins end a live session; the engine tells the client and records `session.ended` with the admin's name. */
  end(caller: Identity, session: SessionRecord): void {
    if (!isAdmin(caller)) throw forbidden('ending a session needs the admin group');
    const liveSession = this.liveSession(session);
    if (!liveSession) {
      throw conflict(session.endedAt === null ? `${session.id} is not connected to this jitgate instance` : `${session.id} has already ended`);
    }
    liveSession.end({ kind: 'ended_by_admin', actor: caller.name });
  }

  /** Waits (bounded) until the store records the session's end; false when it did not within `timeoutMs`. */
  async waitUntilEnded(session: SessionRecord, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await this.store.getSession(session.id);
      if (!record || record.endedAt !== null) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private liveSession(session: SessionRecord): Session | undefined {
    if (session.endedAt !== null) return undefined;
    return this.live.sessionsOf(session.grantId).find((candidate) => candidate.id === session.id && !candidate.isEnded);
  }
}
