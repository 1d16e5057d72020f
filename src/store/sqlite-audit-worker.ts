// The store's write worker: audit batches and session records go to the SQLite file on a connection of its own, so the
// thread that relays statements never waits on the disk (a commit writes the WAL, a checkpoint copies and syncs it) —
// DESIGN §8, no sync fs calls on the relay path. Requests come in arrays and are handled one at a time, in arrival
// order, with one reply array per message; an append's reply carries only what the chain assigned.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, configureConnection, prepareAuditAppend, prepareSessionWrites, type AuditAppend } from './sqlite-audit-append.js';
import type { AuditWorkerData, AuditWorkerReply, AuditWorkerRequest } from './sqlite-audit-client.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-audit-worker runs as a worker thread');
const { path, durableCommits } = workerData as AuditWorkerData;
const sqlite = new SqliteDatabase(path, { timeout: BUSY_TIMEOUT_MS });
configureConnection(sqlite);
// Under `audit.durability: fsync` each commit syncs the WAL before it returns; NORMAL syncs only at checkpoints.
if (durableCommits) sqlite.pragma('synchronous = FULL');
// The audit chain commits tens of times a second, always rewriting the same right-edge pages: a longer WAL (about
// 40 MB, counted in pages of the file's own size) before each automatic checkpoint copies each page once instead of
// once per few commits.
const pageSize = Number(sqlite.pragma('page_size', { simple: true }));
sqlite.pragma(`wal_autocheckpoint = ${Math.max(1_000, Math.floor(40_000_000 / pageSize))}`);
// Prepared at the first batch, inside its error handling: a schema problem becomes that batch's error reply.
let append: AuditAppend | undefined;
let sessions: ReturnType<typeof prepareSessionWrites> | undefined;

// Session writes that arrive together commit together: a busy connect loop sends a session insert and update per
// connection, and each commit writes every page it dirtied (the sessions table and its five indexes) to the WAL. Each
// write is one statement, so it still succeeds or fails alone, and a reply says ok only once the commit has. An audit
// append stays a transaction of its own: inside a larger one it would need a savepoint, and a savepoint journals each
// page before its first change — a copy of every page the chain's right edge dirties, per batch.
const begin = sqlite.prepare('BEGIN IMMEDIATE');
const commit = sqlite.prepare('COMMIT');
const rollback = sqlite.prepare('ROLLBACK');

type WorkRequest = Exclude<AuditWorkerRequest, { kind: 'close' }>;

port.on('message', (requests: readonly AuditWorkerRequest[]) => {
  const closeAt = requests.findIndex((request) => request.kind === 'close');
  const work = (closeAt === -1 ? requests : requests.slice(0, closeAt)) as readonly WorkRequest[];
  const replies: AuditWorkerReply[] = [];
  for (let next = 0; next < work.length;) {
    const request = work[next];
    if (request?.kind === 'append') {
      replies.push(handle(request));
      next++;
    } else {
      next = runSessionWrites(work, next, replies);
    }
  }
  if (replies.length > 0) port.postMessage(replies);
  if (closeAt !== -1) {
    sqlite.close();
    port.close();
  }
});

/** Runs the session writes from `from` up to the next append in one transaction; returns where it stopped. */
function runSessionWrites(work: readonly WorkRequest[], from: number, replies: AuditWorkerReply[]): number {
  let end = from;
  while (end < work.length && work[end]?.kind !== 'append') end++;
  try {
    begin.run();
  } catch (error) {
    for (let index = from; index < end; index++) replies.push(failure(work[index]?.id ?? 0, error));
    return end;
  }
  const done: AuditWorkerReply[] = [];
  for (let index = from; index < end; index++) {
    const request = work[index];
    if (request === undefined) continue;
    const reply = handle(request);
    if (!sqlite.inTransaction) {
      // SQLite rolled the whole transaction back (an I/O error, a full disk): the writes before this one are undone.
      const cause = reply.ok ? new Error('the transaction was rolled back') : new Error(reply.message);
      for (const earlier of done) replies.push(earlier.ok ? failure(earlier.id, cause) : earlier);
      replies.push(reply.ok ? failure(reply.id, cause) : reply);
      return index + 1;
    }
    done.push(reply);
  }
  try {
    commit.run();
    replies.push(...done);
  } catch (error) {
    if (sqlite.inTransaction) rollback.run();
    for (const reply of done) replies.push(reply.ok ? failure(reply.id, error) : reply);
  }
  return end;
}

function failure(id: number, error: unknown): AuditWorkerReply {
  const { message, code } = error as { message?: unknown; code?: unknown };
  return { id, ok: false, message: String(message), ...(typeof code === 'string' ? { code } : {}) };
}

function handle(request: WorkRequest): AuditWorkerReply {
  try {
    if (request.kind === 'append') {
      append ??= prepareAuditAppend(sqlite);
      return { id: request.id, ok: true, ...append(request.columns) };
    }
    sessions ??= prepareSessionWrites(sqlite);
    if (request.kind === 'insertSession') sessions.insert(request.row);
    else sessions.update(request.sessionId, request.columns);
    return { id: request.id, ok: true, firstSeq: 0, prev: '', hashes: [] };
  } catch (error) {
    return failure(request.id, error);
  }
}
