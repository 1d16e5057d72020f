// Volume: a 200 MB result set and a 50 MB COPY IN, both streamed so neither the test nor (through jitgate) the proxy
// may hold the whole thing; the checks are exact byte counts and checksums, not "it did not crash".
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { PgTarget } from '../pg-target.js';
import { uniqueName, useScenarioScope } from './scope.js';

const RESULT_ROWS = 200_000;
const RESULT_ROW_BYTES = 1_000; // 200 MB of column data
const FETCH_ROWS = 10_000;

const COPY_ROWS = 50_000;
const COPY_ROW_BYTES = 1_000; // ~50 MB of COPY data, plus ids and tabs
const COPY_LINES_PER_CHUNK = 64;

/** Row `i`'s payload: deterministic, varied (so a shifted or repeated chunk changes the checksum), exactly 1000 bytes. */
function copyPayload(i: number): string {
  const head = `${i}:`;
  return head + String.fromCharCode(97 + (i % 26)).repeat(COPY_ROW_BYTES - head.length);
}

/** COPY text lines in chunks of COPY_LINES_PER_CHUNK, feeding the running md5 of the payloads as it goes. */
function* copyChunks(md5: ReturnType<typeof createHash>): Generator<string> {
  for (let start = 0; start < COPY_ROWS; start += COPY_LINES_PER_CHUNK) {
    let chunk = '';
    for (let i = start; i < Math.min(start + COPY_LINES_PER_CHUNK, COPY_ROWS); i += 1) {
      const payload = copyPayload(i);
      md5.update(payload);
      chunk += `${i}\t${payload}\n`;
    }
    yield chunk;
  }
}

export function defineLargeScenarios(getTarget: () => PgTarget): void {
  describe('large transfers', () => {
    const scope = useScenarioScope(getTarget);

    it('pg: a 200 MB result set read through DECLARE CURSOR / FETCH in 10k-row chunks', async () => {
      const client = await scope.pgClient();
      const cursor = uniqueName('big');
      await client.query('begin');
      await client.query(`declare ${cursor} no scroll cursor for
        select i, repeat(chr(97 + i % 26), ${RESULT_ROW_BYTES}) from generate_series(1, ${RESULT_ROWS}) as i`);
      let rows = 0;
      let bytes = 0;
      let wrong = 0;
      for (;;) {
        const chunk = await client.query<[number, string]>({ text: `fetch ${FETCH_ROWS} from ${cursor}`, rowMode: 'array' });
        if (chunk.rows.length === 0) break;
        for (const [i, payload] of chunk.rows) {
          rows += 1;
          bytes += payload.length;
          if (i !== rows || payload.charCodeAt(RESULT_ROW_BYTES - 1) !== 97 + (i % 26)) wrong += 1;
        }
      }
      await client.query('commit');
      expect({ rows, bytes, wrong }).toEqual({ rows: RESULT_ROWS, bytes: RESULT_ROWS * RESULT_ROW_BYTES, wrong: 0 });
    }, 120_000);

    it('postgres.js: the same 200 MB as one result set, rows consumed as they arrive (.forEach)', async () => {
      const sql = scope.postgresJs();
      let rows = 0;
      let bytes = 0;
      let wrong = 0;
      const result = await sql<{ i: number; payload: string }[]>`select i, repeat(chr(97 + i % 26), ${RESULT_ROW_BYTES}::int) as payload
        from generate_series(1, ${RESULT_ROWS}::int) as i`.forEach((row) => {
        rows += 1;
        bytes += row.payload.length;
        if (row.i !== rows || row.payload.charCodeAt(0) !== 97 + (row.i % 26)) wrong += 1;
      });
      expect({ rows, bytes, wrong, count: result.count }).toEqual({
        rows: RESULT_ROWS, bytes: RESULT_ROWS * RESULT_ROW_BYTES, wrong: 0, count: RESULT_ROWS,
      });
      expect(await sql`select 'after 200 MB' as ok`).toEqual([{ ok: 'after 200 MB' }]);
    }, 120_000);

    it('postgres.js: a 50 MB COPY IN streamed with backpressure; count, bytes and md5 match', async () => {
      const sql = scope.postgresJs();
      const t = scope.table('copy_50mb');
      await sql`create table ${sql(t)} (id int not null, payload text not null)`;
      const md5 = createHash('md5');
      await pipeline(Readable.from(copyChunks(md5)), await sql`copy ${sql(t)} (id, payload) from stdin`.writable());
      const [check] = await sql<{ n: number; bytes: string; sum: string }[]>`
        select count(*)::int as n, sum(length(payload))::text as bytes, md5(string_agg(payload, '' order by id)) as sum
        from ${sql(t)}`;
      expect(check).toEqual({ n: COPY_ROWS, bytes: String(COPY_ROWS * COPY_ROW_BYTES), sum: md5.digest('hex') });
    }, 120_000);
  });
}
