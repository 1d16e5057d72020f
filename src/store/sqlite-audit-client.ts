// The main-thread side of the audit worker (sqlite-audit-worker.ts): batches go over as flat column arrays, the reply
// brings back only seq, prev and hashes, and the stored records are rebuilt from the events still held here. A worker
// that dies fails what is in flight (the audit log retries, and the store sink checks what committed) and is
// replaced on the next append. Messages are arrays of requests: waking the worker costs far more than the clone
// (≈ 0.1 ms per message on this VM), so session writes wait up to SESSION_WRITE_DELAY_MS to travel with the next
// audit batch or with each other, and an append takes every waiting session write along, in order.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { eventCount, type AuditBatchColumns, type ChainAssignment } from '../audit/records.js';
import type { SessionColumns } from './sqlite-audit-append.js';
import type { SessionsTable } from './tables.js';

export type AuditWorkerRequest =
  | { readonly kind: 'append'; readonly id: number; readonly columns: AuditBatchColumns }
  | { readonly kind: 'insertSession'; readonly id: number; readonly row: SessionsTable }
  | { readonly kind: 'updateSession'; readonly id: number; readonly sessionId: string; readonly columns: SessionColumns }
  | { readonly kind: 'close' };

export interface SqliteStoreOptions {
  /** `audit.durability: fsync`: the writing connection commits with synchronous = FULL (each commit on disk). */
  readonly durableCommits?: boolean;
}

export interface AuditWorkerData {
  readonly path: string;
  readonly durableCommits: boolean;
}

export type AuditWorkerReply =
  | { readonly id: number; readonly ok: true; readonly firstSeq: number; readonly prev: string; readonly hashes: readonly string[] }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: string };

/** How long a session write may wait for company; review reads see a session row at most this much later. */
export const SESSION_WRITE_DELAY_MS = 20;

interface InFlight {
  /** How many events were appended (the reply must place each); 0 for a session write. */
  readonly events: number;
  readonly resolve: (assignment: ChainAssignment) => void;
  readonly reject: (error: Error) => void;
}

/** What a session write's request resolves with: nothing was chained. */
const NOTHING_CHAINED: ChainAssignment = { firstSeq: 0, prev: '', hashes: [] };

/** Where the compiled worker is. Under the test runner this module is TypeScript source; the worker runs from dist/. */
export function auditWorkerUrl(moduleUrl = import.meta.url): URL {
  if (!moduleUrl.endsWith('.ts')) return new URL('./sqlite-audit-worker.js', moduleUrl);
  const source = fileURLToPath(new URL('./sqlite-audit-worker.ts', moduleUrl));
  const compiled = source.replace(/([\\/])src([\\/]store[\\/])sqlite-audit-worker\.ts$/, '$1dist$1src$2sqlite-audit-worker.js');
  if (!existsSync(compiled)) throw new Error(`the audit worker is not built (${compiled}): run npm run build`);
  return pathToFileURL(compiled);
}

export class SqliteAuditWorkerClient {
  readonly #path: string;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #inFlight = new Map<number, InFlight>();
  /** Requests not yet posted, in order; each already has its entry in #inFlight. */
  #outbox: AuditWorkerRequest[] = [];
  #sendTimer: NodeJS.Timeout | undefined;
  #closed = false;

  readonly #durableCommits: boolean;

  /** `path`: the SQLite file, already migrated by the main connection. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#path = path;
    this.#durableCommits = options.durableCommits === true;
  }

  append(columns: AuditBatchColumns): Promise<ChainAssignment> {
    const assigned = this.request((id) => ({ kind: 'append', id, columns }), eventCount(columns));
    this.send();
    return assigned;
  }

  async insertSession(row: SessionsTable): Promise<void> {
    await this.requestLater((id) => ({ kind: 'insertSession', id, row }));
  }

  async updateSession(sessionId: string, columns: SessionColumns): Promise<void> {
    await this.requestLater((id) => ({ kind: 'updateSession', id, sessionId, columns }));
  }

  private requestLater(make: (id: number) => AuditWorkerRequest): Promise<ChainAssignment> {
    const done = this.request(make, 0);
    this.#sendTimer ??= setTimeout(() => this.send(), SESSION_WRITE_DELAY_MS);
    return done;
  }

  private request(make: (id: number) => AuditWorkerRequest, events: number): Promise<ChainAssignment> {
    if (this.#closed) return Promise.reject(new Error('the audit worker is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#inFlight.set(id, { events, resolve, reject });
      this.#outbox.push(make(id));
    });
  }

  /** Posts everything waiting as one message. */
  private send(): void {
    if (this.#sendTimer !== undefined) clearTimeout(this.#sendTimer);
    this.#sendTimer = undefined;
    if (this.#outbox.length === 0) return;
    const requests = this.#outbox;
    this.#outbox = [];
    this.worker().postMessage(requests);
  }

  /** Lets the batch in flight finish, then closes the worker's connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.send(); // session writes still waiting go first
    const worker = this.#worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage([{ kind: 'close' }] satisfies AuditWorkerRequest[]);
    await exited;
  }

  private worker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(auditWorkerUrl(), { workerData: { path: this.#path, durableCommits: this.#durableCommits } satisfies AuditWorkerData });
    worker.on('message', (replies: readonly AuditWorkerReply[]) => { for (const reply of replies) this.settle(reply); });
    worker.on('error', (error) => this.failAll(new Error(`the audit worker failed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.failAll(new Error(`the audit worker exited (code ${code})`));
    });
    this.#worker = worker;
    return worker;
  }

  private settle(reply: AuditWorkerReply): void {
    const entry = this.#inFlight.get(reply.id);
    if (entry === undefined) return;
    this.#inFlight.delete(reply.id);
    if (!reply.ok) {
      entry.reject(Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code }));
      return;
    }
    if (reply.hashes.length !== entry.events) {
      entry.reject(new Error(`the audit worker stored ${reply.hashes.length} of ${entry.events} events`));
      return;
    }
    entry.resolve(entry.events === 0 ? NOTHING_CHAINED : { firstSeq: reply.firstSeq, prev: reply.prev, hashes: reply.hashes });
  }

  private failAll(error: Error): void {
    const pending = [...this.#inFlight.values()];
    this.#inFlight.clear();
    this.#outbox = []; // their promises are rejected here; a replacement worker must not run them later
    for (const entry of pending) entry.reject(error);
  }
}
