// The audit worker: appends audit batches to the SQLite file on a connection of its own, so the thread that relays
// statements never waits on the disk (a commit writes the WAL, a checkpoint copies and syncs it) — DESIGN §8, no sync
// fs calls on the relay path. One batch at a time, in arrival order; replies carry only what the chain assigned.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, configureConnection, prepareAuditAppend, type AuditAppend } from './sqlite-audit-append.js';
import type { AuditWorkerReply, AuditWorkerRequest } from './sqlite-audit-client.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-audit-worker runs as a worker thread');
const { path } = workerData as { readonly path: string };
const sqlite = new SqliteDatabase(path, { timeout: BUSY_TIMEOUT_MS });
configureConnection(sqlite);
// The audit chain commits a few hundred times a second, always rewriting the same right-edge pages: a longer WAL
// (about 40 MB) before each automatic checkpoint copies each page once instead of once per few commits.
sqlite.pragma('wal_autocheckpoint = 10000');
// Prepared at the first batch, inside its error handling: a schema problem becomes that batch's error reply.
let append: AuditAppend | undefined;

port.on('message', (request: AuditWorkerRequest) => {
  if (request.kind === 'close') {
    sqlite.close();
    port.close();
    return;
  }
  let reply: AuditWorkerReply;
  try {
    append ??= prepareAuditAppend(sqlite);
    const stored = append(request.events);
    reply = { id: request.id, ok: true, firstSeq: stored[0]?.seq ?? 0, prev: stored[0]?.prev ?? '', hashes: stored.map((record) => record.hash) };
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    reply = { id: request.id, ok: false, message: String(message), ...(typeof code === 'string' ? { code } : {}) };
  }
  port.postMessage(reply);
});
