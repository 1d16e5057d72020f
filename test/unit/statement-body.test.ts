// The statement fast path must produce exactly the generic canonical encoding, and step aside for anything else.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import { prepareEvent } from '../../src/audit/prepare-event.js';
import { canonicalStatementBody, type StatementEvent } from '../../src/audit/statement-body.js';

/** A small deterministic PRNG so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const TEXTS = ['', 'SELECT 1', 'select "quoted" \\ back', 'ünïcødé 🎉', 'line\nbreak\ttab', '\u0000\u001f\u2028', 'x'.repeat(300)];

function randomStatement(random: () => number): StatementEvent {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const maybe = (): boolean => random() < 0.5;
  const event: Record<string, unknown> = {
    type: 'statement', id: `e_${Math.floor(random() * 1e9)}`, ts: new Date(Math.floor(random() * 4e12)).toISOString(),
    session: 's_x', grant: 'g_y', seq: Math.floor(random() * 1e6), kind: pick(['query', 'bind_execute', 'stmt_execute']),
    sql: pick(TEXTS), started: '2026-12-01T10:00:00.000Z', duration_us: pick([0, 1, 80, 1.5, 123456789]),
  };
  if (maybe()) event.rows = pick([0, 1, 2 ** 40]);
  if (maybe()) event.tag = pick(TEXTS);
  if (maybe()) event.bytes = pick([0, 24, 1e7]);
  if (maybe()) event.statement_name = pick(TEXTS);
  if (maybe()) event.portal = pick(TEXTS);
  if (maybe()) event.params = Array.from({ length: Math.floor(random() * 4) }, () => (maybe() ? null : pick(TEXTS)));
  if (maybe()) event.error = { code: '42P01', message: pick(TEXTS) };
  if (maybe()) event.truncated = { length: 2_000_000, sha256: 'ab'.repeat(32) };
  if (maybe()) event.undecoded = pick(TEXTS);
  if (maybe()) event.rows = undefined; // present but undefined: omitted, as canonicalJson omits it
  return event as unknown as StatementEvent;
}

describe('canonicalStatementBody', () => {
  it('equals canonicalJson for 5000 random statement events', () => {
    const random = prng(20261201);
    for (let i = 0; i < 5_000; i++) {
      const event = randomStatement(random);
      expect(canonicalStatementBody(event), `event ${i}`).toBe(canonicalJson(event));
    }
  });

  it.each([
    ['an unknown member', { extra: 'x' }],
    ['a secret-named member', { password: 'hunter2' }],
    ['a non-finite duration', { duration_us: Number.NaN }],
    ['a string where a number belongs', { rows: '1' }],
    ['an error with an extra member', { error: { code: 'X', message: 'm', token: 't' } }],
    ['a non-string parameter', { params: [1] }],
    ['a missing sql', { sql: undefined }],
  ])('steps aside for %s', (_label, change) => {
    const base = randomStatement(prng(7));
    expect(canonicalStatementBody({ ...base, ...change } as unknown as StatementEvent)).toBeUndefined();
  });

  it('leaves such events to the generic path, which still redacts and records them', () => {
    const input = { type: 'statement', session: 's_x', grant: 'g_y', seq: 1, kind: 'query', sql: "ALTER USER u PASSWORD 'SECRET_1'",
      started: '2026-12-01T10:00:00.000Z', duration_us: 5, password: 'SECRET_2' } as const;
    const { pending, problem } = prepareEvent(input);
    expect(problem).toBeUndefined();
    expect(pending.body).not.toMatch(/SECRET/);
    expect(JSON.parse(pending.body)).toMatchObject({ password: '[redacted]', type: 'statement' });
  });

  it('redacts password literals on the fast path too', () => {
    const { pending } = prepareEvent({ type: 'statement', session: 's_x', grant: 'g_y', seq: 1, kind: 'query',
      sql: "CREATE ROLE r LOGIN PASSWORD 'SECRET_3'", started: '2026-12-01T10:00:00.000Z', duration_us: 5 });
    expect(pending.body).not.toMatch(/SECRET/);
    expect(canonicalJson(JSON.parse(pending.body))).toBe(pending.body);
  });
});
