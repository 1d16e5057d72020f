// Volume through one connection and many: a 200 MB result streamed row by row (counted, never accumulated, with
// the heap watched to prove it), and a pool of 10 connections under 200 concurrent queries.
import mysqlCallback from 'mysql2';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { MysqlTarget } from '../mysql-target.js';
import { connectionOptions, rowsOf } from './connect.js';

const STREAM_ROWS = 200_000;
const STREAM_ROW_BYTES = 1_000;
/** Far below the 200 MB that accumulating the rows would take; generous for GC lag and an in-process proxy. */
const STREAM_HEAP_GROWTH_LIMIT = 120 * 1024 * 1024;

const POOL_SIZE = 10;
const POOL_TASKS = 200;

const heapInUse = (): number => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

export function defineVolumeScenarios(getTarget: () => MysqlTarget): void {
  describe('mysql2 volume', () => {
    it('streams a 200 MB result (query().stream()) in order, with bounded memory', { timeout: 120_000 }, async () => {
      const connection = mysqlCallback.createConnection(connectionOptions(getTarget()));
      try {
        const baseline = heapInUse();
        let peakGrowth = 0;
        let rows = 0;
        let bytes = 0;
        let outOfOrder = 0;
        // MariaDB's SEQUENCE engine makes the rows: nothing is stored, the server streams them as it goes.
        const query = connection.query({
          sql: `select seq, repeat('x', ${STREAM_ROW_BYTES}) as payload from seq_1_to_${STREAM_ROWS}`, rowsAsArray: true,
        });
        for await (const row of query.stream({ highWaterMark: 256 }) as AsyncIterable<[string | number, string]>) {
          rows += 1;
          if (Number(row[0]) !== rows) outOfOrder += 1;
          bytes += row[1].length;
          if (rows % 10_000 === 0) peakGrowth = Math.max(peakGrowth, heapInUse() - baseline);
        }
        expect({ rows, bytes, outOfOrder }).toEqual({ rows: STREAM_ROWS, bytes: STREAM_ROWS * STREAM_ROW_BYTES, outOfOrder: 0 });
        expect(peakGrowth).toBeLessThan(STREAM_HEAP_GROWTH_LIMIT);
        // The connection is back in step after the last row.
        const [after] = await connection.promise().query('select 1 as n');
        expect(rowsOf(after)).toEqual([{ n: 1 }]);
      } finally {
        await connection.promise().end().catch(() => connection.destroy());
      }
    });

    it(`a pool of ${POOL_SIZE} connections serves ${POOL_TASKS} concurrent queries and inserts`, { timeout: 60_000 }, async () => {
      const target = getTarget();
      const pool = mysql.createPool({
        ...connectionOptions(target), connectionLimit: POOL_SIZE, maxIdle: POOL_SIZE, waitForConnections: true, queueLimit: 0,
      });
      let opened = 0;
      pool.on('connection', () => {
        opened += 1;
      });
      try {
        await pool.query('create table v_pool (i int primary key, cid bigint not null)');
        const tasks = Array.from({ length: POOL_TASKS }, async (_, i) => {
          // Both protocols share the pool: text for odd tasks, prepared statements for even ones.
          const [echo] = i % 2 === 0
            ? await pool.execute('select ? as i, connection_id() as cid', [i])
            : await pool.query('select ? as i, connection_id() as cid', [i]);
          await pool.execute('insert into v_pool values (?, connection_id())', [i]);
          return rowsOf(echo)[0]?.i as unknown;
        });
        const echoed = await Promise.all(tasks);
        expect(echoed).toEqual(Array.from({ length: POOL_TASKS }, (_, i) => i));
        const [summary] = await pool.query('select count(*) as n, count(distinct cid) as sessions, sum(i) as total from v_pool');
        expect(rowsOf(summary)).toEqual([{
          n: String(POOL_TASKS), sessions: String(opened), total: String((POOL_TASKS * (POOL_TASKS - 1)) / 2),
        }]);
        expect(opened).toBe(POOL_SIZE);
      } finally {
        await pool.end();
      }
    });
  });
}
