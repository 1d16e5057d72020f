// The "zero audit events lost" check of `npm run bench`: reads the jitgate child's SQLite store read-only while it runs
// (WAL lets a reader in beside the writer) and counts the statement events one load run produced, matched by SQL text
// so that logins, lease setup and the load tool's own catalog queries do not count.
import Database from 'better-sqlite3';

const POLL_MS = 100;
/** The audit log batches with ≤ 5 ms delay, but a writer behind under load drains its backlog after the run ends. */
const QUIET_MS = 600;

export function openEventCounter(storePath) {
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  const head = db.prepare('select coalesce(max(seq), 0) as seq from audit_events');
  // A prefix compare rather than LIKE: `_` in table names is a LIKE wildcard.
  const matching = db.prepare("select count(*) as n from audit_events where seq > @since and type = 'statement' "
    + "and substr(json_extract(body, '$.sql'), 1, length(@prefix)) = @prefix");
  const sample = db.prepare("select body from audit_events where type = 'statement' order by seq desc limit ?");

  /** Waits until the store stops growing; resolves with its last seq, the boundary for the next run. */
  async function settle(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    let last = head.get().seq;
    let quietSince = Date.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const seq = head.get().seq;
      if (seq !== last) [last, quietSince] = [seq, Date.now()];
      else if (Date.now() - quietSince >= QUIET_MS) return seq;
      if (Date.now() > deadline) throw new Error(`audit store still growing after ${timeoutMs} ms`);
    }
  }

  return {
    settle,
    /** Statement events after `since` whose SQL starts with `sqlPrefix`, once the store has settled. */
    async countSince(since, sqlPrefix) {
      const until = await settle();
      return { events: matching.get({ since, prefix: sqlPrefix }).n, until };
    },
    /** The newest statement bodies, parsed: what the SQL text of an event looks like. */
    recent: (count = 3) => sample.all(count).map((row) => JSON.parse(row.body)),
    close: () => db.close(),
  };
}

/** One run's verdict: pgbench -S and sysbench point select each send exactly one matching statement per transaction. */
export function eventCheck(transactions, events) {
  // A load tool stopping at its deadline may drop a reply still in flight: the statement ran and was audited but the
  // transaction is not counted, so a few extra events are no loss. Fewer events than transactions are.
  return { transactions, events, lost: Math.max(0, transactions - events) };
}
