import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, linkHash, verifyChain } from '../../src/audit/chain.js';
import { verifyStoredChain } from '../../src/audit/verify.js';
import type { StoredAuditEvent } from '../../src/store/store.js';
import { MemoryAuditStore } from '../support/memory-audit-store.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const body = (n: number): string =>
  `{"id":"e_${String(n).padStart(20, 'a')}","message":"event ${n}","severity":"warning","ts":"2024-05-01T12:00:0${n % 10}.000Z","type":"alert"}`;

/** A store holding `count` alert events chained by the code under test. */
async function chainOf(count: number): Promise<MemoryAuditStore> {
  const store = new MemoryAuditStore();
  for (let n = 1; n <= count; n++) {
    const text = body(n);
    const parsed = JSON.parse(text) as { id: string; ts: string; type: string };
    await store.appendAuditEvents([{ id: parsed.id, ts: new Date(parsed.ts), type: parsed.type, grantId: null, sessionId: null, actor: null, body: text }]);
  }
  return store;
}

const replace = (rows: StoredAuditEvent[], index: number, patch: Partial<StoredAuditEvent>): void => {
  const row = rows[index];
  if (row === undefined) throw new Error(`no row ${index}`);
  rows[index] = { ...row, ...patch };
};

describe('linkHash', () => {
  it('is hex SHA-256 of prev followed by body', () => {
    const first = '{"id":"e_aaaaaaaaaaaaaaaaaaaa","ts":"2024-05-01T12:00:00.000Z","type":"alert"}';
    const second = '{"a":"é"}';
    const expectedFirst = sha256(`0000000000000000000000000000000000000000000000000000000000000000${first}`);
    expect(linkHash(GENESIS_HASH, first)).toBe(expectedFirst);
    expect(linkHash(expectedFirst, second)).toBe(sha256(expectedFirst + second));
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });

  it('matches a golden value computed outside Node', () => {
    // printf '%s' "$(printf '0%.0s' {1..64}){}" | sha256sum
    expect(linkHash(GENESIS_HASH, '{}')).toBe('5508d2b710e64bc470079e1b211d9c58e21011e59d0559e422345dc19d659a75');
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain and reports its head', async () => {
    const store = await chainOf(5);
    const last = store.rows[4];
    expect(await verifyChain(store.rows)).toEqual({ ok: true, events: 5, head: { seq: 5, hash: last?.hash } });
  });

  it('accepts an empty chain', async () => {
    expect(await verifyChain([])).toEqual({ ok: true, events: 0 });
  });

  it('accepts an async iterable', async () => {
    const store = await chainOf(3);
    async function* rows(): AsyncGenerator<StoredAuditEvent> { yield* store.rows; }
    expect((await verifyChain(rows())).ok).toBe(true);
  });

  it('names the event whose body lost or gained one byte', async () => {
    const store = await chainOf(6);
    const target = store.rows[3];
    replace(store.rows, 3, { body: (target?.body ?? '').replace('event 4', 'event 5') });
    const result = await verifyChain(store.rows);
    expect(result).toEqual({
      ok: false, events: 3, head: { seq: 3, hash: store.rows[2]?.hash },
      firstBroken: { seq: 4, id: target?.id, reason: 'hash mismatch: body or hash was altered' },
    });
  });

  it('notices a deleted event as a seq gap', async () => {
    const store = await chainOf(6);
    store.rows.splice(2, 1);
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 4, id: store.rows[2]?.id, reason: 'seq gap after 2' });
  });

  it('notices a deleted event even when later seqs were renumbered', async () => {
    const store = await chainOf(6);
    store.rows.splice(2, 1);
    store.rows = store.rows.map((row, index) => ({ ...row, seq: index + 1 }));
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 3, id: store.rows[2]?.id, reason: 'prev does not match the hash of event 2' });
  });

  it('notices a reordered pair', async () => {
    const store = await chainOf(6);
    const [third, fourth] = [store.rows[2], store.rows[3]];
    if (third === undefined || fourth === undefined) throw new Error('short chain');
    store.rows[2] = { ...fourth, seq: 3 };
    store.rows[3] = { ...third, seq: 4 };
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 3, id: fourth.id, reason: 'prev does not match the hash of event 2' });
  });

  it('notices a pair swapped without renumbering', async () => {
    const store = await chainOf(4);
    const [second, third] = [store.rows[1], store.rows[2]];
    if (second === undefined || third === undefined) throw new Error('short chain');
    store.rows[1] = third;
    store.rows[2] = second;
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 3, id: third.id, reason: 'seq gap after 1' });
  });

  it('notices an edited prev', async () => {
    const store = await chainOf(4);
    replace(store.rows, 2, { prev: 'f'.repeat(64) });
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 3, id: store.rows[2]?.id, reason: 'prev does not match the hash of event 2' });
  });

  it('notices a first event that does not start from the genesis hash', async () => {
    const store = await chainOf(2);
    replace(store.rows, 0, { prev: '1'.repeat(64) });
    expect((await verifyChain(store.rows)).firstBroken?.reason).toBe('prev of the first event is not the genesis hash');
  });

  it('notices a chain that does not start at seq 1', async () => {
    const store = await chainOf(3);
    store.rows.shift();
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 2, id: store.rows[0]?.id, reason: 'seq gap after 0' });
  });

  it('notices a recomputed hash through the next link', async () => {
    const store = await chainOf(4);
    const target = store.rows[1];
    const forged = (target?.body ?? '').replace('event 2', 'event X');
    replace(store.rows, 1, { body: forged, hash: linkHash(target?.prev ?? '', forged) });
    expect((await verifyChain(store.rows)).firstBroken).toEqual({ seq: 3, id: store.rows[2]?.id, reason: 'prev does not match the hash of event 2' });
  });

  it('notices an edited hash on the last event', async () => {
    const store = await chainOf(3);
    replace(store.rows, 2, { hash: 'a'.repeat(64) });
    expect((await verifyChain(store.rows)).firstBroken?.reason).toBe('hash mismatch: body or hash was altered');
  });

  it('notices edited columns that the hash does not cover', async () => {
    const cases: [Partial<StoredAuditEvent>, string][] = [
      [{ type: 'statement' }, 'column type does not match the body'],
      [{ id: 'e_bbbbbbbbbbbbbbbbbbbb' }, 'column id does not match the body'],
      [{ ts: new Date('2030-01-01T00:00:00.000Z') }, 'column ts does not match the body'],
      [{ grantId: 'g_aaaaaaaaaaaaaaaaaaaa' }, 'column grant does not match the body'],
      [{ sessionId: 's_aaaaaaaaaaaaaaaaaaaa' }, 'column session does not match the body'],
      [{ actor: 'mallory' }, 'column actor does not match the body'],
    ];
    for (const [patch, reason] of cases) {
      const store = await chainOf(3);
      replace(store.rows, 1, patch);
      expect((await verifyChain(store.rows)).firstBroken, reason).toEqual({ seq: 2, id: store.rows[1]?.id, reason });
    }
  });
});

describe('verifyStoredChain', () => {
  it('pages through the store', async () => {
    const store = await chainOf(10);
    const result = await verifyStoredChain(store, { batchSize: 3 });
    expect(result).toEqual({ ok: true, events: 10, head: { seq: 10, hash: store.rows[9]?.hash } });
    expect(store.readCalls).toBe(4);
  });

  it('stops reading at the first break', async () => {
    const store = await chainOf(10);
    replace(store.rows, 1, { body: `${store.rows[1]?.body ?? ''} ` });
    const result = await verifyStoredChain(store, { batchSize: 3 });
    expect(result.firstBroken?.seq).toBe(2);
    expect(store.readCalls).toBe(1);
  });

  it('reports an empty store as intact', async () => {
    expect(await verifyStoredChain(new MemoryAuditStore(), { batchSize: 100 })).toEqual({ ok: true, events: 0 });
  });
});
