// Memory per idle session (DESIGN §8: ≤ 12 KB heap per idle session): opens `count` Postgres connections through a
// proxy (pg, each authenticated and one `select 1` answered, then left idle), and reads the proxy's memory before and
// after. For jitgate: V8 heap used and external memory from its /metrics, each after a forced full collection (see
// gc-hook.mjs), and RSS from /proc; for pgbouncer: RSS only. Per-session figures are (after − before) / count, the
// baseline taken after a warm-up round of sessions has come and gone.
import pg from 'pg';
import { rssBytes } from './proc.mjs';

// File descriptors: 2000 sessions hold 2000 here and ~4000 in the proxy (client + server side); `ulimit -n` on the
// bench machines is 20000, so no limit is raised.
const CONNECT_CONCURRENCY = 32;
const SETTLE_MS = 1_000;
const WARMUP_SESSIONS = 32;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** jitgate's memory, after a forced collection. */
export const jitgateMemory = (jitgate) => async () => {
  await jitgate.gc();
  // After the collection: V8 gives freed heap pages back, so RSS holds what the sessions keep alive.
  const rss = rssBytes(jitgate.pid);
  const metrics = await jitgate.metrics();
  const heap = metrics.jitgate_nodejs_heap_size_used_bytes;
  const external = metrics.jitgate_nodejs_external_memory_bytes;
  if (!Number.isFinite(heap)) throw new Error('jitgate /metrics has no jitgate_nodejs_heap_size_used_bytes');
  return { heap, external, rss };
};

/** A process known by pid (pgbouncer): RSS only. */
export const processMemory = (pid) => async () => ({ heap: undefined, external: undefined, rss: rssBytes(pid) });

async function openIdle(connection, count) {
  const clients = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const client = new pg.Client({ ...connection, ssl: false });
      // An idle client must not take the bench down if the proxy drops it; the count below would show it.
      client.on('error', () => {});
      await client.connect();
      clients.push(client);
      await client.query('select 1');
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, worker));
  } catch (error) {
    await closeAll(clients);
    throw new Error(`opening ${count} idle sessions failed after ${clients.length}: ${error.message}`);
  }
  return clients;
}

const closeAll = (clients) => Promise.all(clients.map((client) => client.end().catch(() => {})));

/** { sessions, before, after, perSession: { heapKb, externalKb, rssKb }, openSeconds }. */
export async function idleSessions({ connection, count, memory }) {
  // Warm-up: the first logins load code, fill caches and (jitgate) issue the lease; none of that is per session.
  await closeAll(await openIdle(connection, Math.min(WARMUP_SESSIONS, count)));
  await memory();
  await sleep(SETTLE_MS);
  const before = await memory();
  const start = Date.now();
  const clients = await openIdle(connection, count);
  const openSeconds = (Date.now() - start) / 1000;
  try {
    await sleep(SETTLE_MS);
    const after = await memory();
    const per = (key) => (before[key] === undefined || after[key] === undefined ? null : (after[key] - before[key]) / 1024 / count);
    return { sessions: count, before, after, perSession: { heapKb: per('heap'), externalKb: per('external'), rssKb: per('rss') }, openSeconds };
  } finally {
    await closeAll(clients);
  }
}
