// The store's write worker: audit batches and session records go to the SQLite file on a connection of its own, so the
// thread that relays statements never waits on the disk (a commit writes the WAL, a checkpoint copies and syncs it) —
// DESIGN §8, no sync fs calls on the relay path. Requests come in arrays and are handled one at a time, in arrival
// order, with one reply array per message; an append's reply carries only what the chain assigned.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, configureConnection, prepareAuditAppend, prepareSessionWrites, type AuditAppend } from './sqlite-audit-append.js';
import type { AuditWorkerReply, AuditWorkerRequest } from './sqlite-audit-client.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-audit-worker runs as a worker thread');
const { path } = workerData as { readonly path: string };
const sqlite = new SqliteDatabase(path, { timeout: BUSY_TIMEOUT_MS });
configureConnection(sqlite);
// The audit chain commits tens of times a second, always rewriting the same right-edge pages: a longer WAL (about
// 40 MB, counted in pages of the file's own size) before each automatic checkpoint copies each page once instead of
// once per few commits.
const pageSize = Number(sqlite.pragma('page_size', { simple: true }));
sqlite.pragma(`wal_autocheckpoint = ${Math.max(1_000, Math.floor(40_000_000 / pageSize))}`);
// Prepared at the first batch, inside its error handling: a schema problem becomes that batch's error reply.
let append: AuditAppend | undefined;
let sessions: ReturnType<typeof prepareSessionWrites> | undefined;

port.on('message', (requests: readonly AuditWorkerRequest[]) => {
  const replies: AuditWorkerReply[] = [];
  for (const request of requests) {
    if (request.kind === 'close') {
      sqlite.close();
      port.close();
      return;
    }
    replies.push(handle(request));
  }
  port.postMessage(replies);
});

function handle(request: Exclude<AuditWorkerRequest, { kind: 'close' }>): AuditWorkerReply {
  try {
    if (request.kind === 'append') {
      append ??= prepareAuditAppend(sqlite);
      const stored = append(request.events);
      return { id: request.id, ok: true, firstSeq: stored[0]?.seq ?? 0, prev: stored[0]?.prev ?? '', hashes: stored.map((record) => record.hash) };
    }
    sessions ??= prepareSessionWrites(sqlite);
    if (request.kind === 'insertSession') sessions.insert(request.row);
    else sessions.update(request.sessionId, request.columns);
    return { id: request.id, ok: true, firstSeq: 0, prev: '', hashes: [] };
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    return { id: request.id, ok: false, message: String(message), ...(typeof code === 'string' ? { code } : {}) };
  }
}
