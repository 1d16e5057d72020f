// KILL by connection id (issue 19 defect 10c): which COM_QUERY texts are one KILL of an id (MariaDB's grammar, read
// with the SQL tokenizer), the rewrite to the server's thread id, the 1094 answer, and the advertised-id bookkeeping.
import { describe, expect, it } from 'vitest';
import type { GrantId } from '../../src/access/ids.js';
import { killStatementText, parseKillStatement, routeKill } from '../../src/engines/mysql/kill-statement.js';
import { AdvertisedIds } from '../../src/session/advertised-ids.js';
import { decodeClientCommand } from '../../protocols/mysql/client-commands.js';
import { cat, u32 } from '../support/mysql-frames.js';

const G1 = 'g_aaaaaaaaaaaaaaaaaaaa' as GrantId;
const G2 = 'g_bbbbbbbbbbbbbbbbbbbb' as GrantId;

describe('parseKillStatement', () => {
  it('reads KILL [HARD|SOFT] [CONNECTION|QUERY] <id> as a whole statement, any case, comments and trailing ; allowed', () => {
    expect(parseKillStatement('KILL 5')).toEqual({ modifier: null, scope: null, threadId: 5n });
    expect(parseKillStatement('kill query 12')).toEqual({ modifier: null, scope: 'QUERY', threadId: 12n });
    expect(parseKillStatement('KILL CONNECTION 7;')).toEqual({ modifier: null, scope: 'CONNECTION', threadId: 7n });
    expect(parseKillStatement('  /* cancel */ Kill Soft Query\n 9 ;; -- bye\n')).toEqual({ modifier: 'SOFT', scope: 'QUERY', threadId: 9n });
    expect(parseKillStatement('KILL HARD 3 # why')).toEqual({ modifier: 'HARD', scope: null, threadId: 3n });
    expect(parseKillStatement('/*!KILL QUERY*/ 4')).toEqual({ modifier: null, scope: 'QUERY', threadId: 4n });
    expect(parseKillStatement('KILL 99999999999999999999')).toEqual({ modifier: null, scope: null, threadId: 99999999999999999999n });
  });

  it('is not fooled by what only looks like a KILL', () => {
    for (const sql of [
      'select 1', "select 'KILL 5'", '/* KILL 5 */ select 1', 'KILL QUERY ID 5', 'KILL USER bob', 'KILL CONNECTION_ID()',
      'KILL @id', 'KILL (5)', 'KILL 5.0', 'KILL QUERY', 'KILL 5; select 1', 'select 1; KILL 5', 'KILL 5 6', 'KILL QUERY HARD 5',
      '`KILL` 5', 'KILL -5', 'KILL 0x5', 'DO KILL 5',
    ]) expect(parseKillStatement(sql), sql).toBeUndefined();
  });

  it('writes the server\'s statement in the client\'s form', () => {
    expect(killStatementText({ modifier: null, scope: null, threadId: 5n }, 1234)).toBe('KILL 1234');
    expect(killStatementText({ modifier: 'SOFT', scope: 'QUERY', threadId: 5n }, 77)).toBe('KILL SOFT QUERY 77');
  });
});

describe('routeKill', () => {
  const threads = new Map<bigint, number>([[5n, 4711]]);
  const serverThreadOf = (id: bigint): number | undefined => threads.get(id);
  const route = (payload: Buffer): ReturnType<typeof routeKill> =>
    routeKill(decodeClientCommand(payload, { capabilities: 0 }), payload, payload.length, serverThreadOf);

  it('rewrites a COM_QUERY KILL of a known id to the server\'s thread id', () => {
    expect(route(cat([0x03], '/* x */ kill query 5;'))).toEqual({ type: 'rewrite', payload: cat([0x03], 'KILL QUERY 4711') });
  });

  it('rewrites COM_PROCESS_KILL of a known id (golden bytes: 0x0c, the id little-endian)', () => {
    expect(route(cat([0x0c], u32(5)))).toEqual({ type: 'rewrite', payload: Buffer.from([0x0c, 0x67, 0x12, 0x00, 0x00]) });
  });

  it('answers an unknown id with ERR 1094 in the server\'s words', () => {
    const unknown = { errno: 1094, sqlState: 'HY000', message: 'Unknown thread id: 6' };
    expect(route(cat([0x03], 'KILL 6'))).toEqual({ type: 'answer', err: unknown });
    expect(route(cat([0x03], 'KILL 006'))).toEqual({ type: 'answer', err: unknown });
    expect(route(cat([0x0c], u32(6)))).toEqual({ type: 'answer', err: unknown });
  });

  it('leaves every other command alone, and a text cut by the audit cap', () => {
    expect(route(cat([0x03], 'select 5'))).toBeUndefined();
    expect(route(cat([0x03], 'KILL USER me'))).toBeUndefined();
    expect(route(Buffer.from([0x0e]))).toBeUndefined();
    const cut = cat([0x03], 'KILL 5');
    expect(routeKill(decodeClientCommand(cut.subarray(0, 4), { capabilities: 0, payloadLength: cut.length }), cut.subarray(0, 4), cut.length, serverThreadOf))
      .toBeUndefined();
  });
});

describe('AdvertisedIds', () => {
  it('mints ids from 1, skipping those of live sessions', () => {
    const threads = new AdvertisedIds();
    expect([threads.mint(), threads.mint()]).toEqual([1, 2]);
    threads.bind(3, G1, 100);
    expect(threads.mint()).toBe(4);
  });

  it('resolves an id to its server thread only for the same grant, and only while the session lives', () => {
    const threads = new AdvertisedIds();
    const id = threads.mint();
    expect(threads.serverThreadOf(BigInt(id), G1)).toBeUndefined(); // greeted, no server connection yet
    threads.bind(id, G1, 900);
    expect(threads.serverThreadOf(BigInt(id), G1)).toBe(900);
    expect(threads.serverThreadOf(BigInt(id), G2)).toBeUndefined();
    expect(threads.serverThreadOf(0n, G1)).toBeUndefined();
    expect(threads.serverThreadOf(2n ** 40n + BigInt(id), G1)).toBeUndefined();
    threads.release(id);
    expect(threads.serverThreadOf(BigInt(id), G1)).toBeUndefined();
    expect(threads.size).toBe(0);
  });
});
