// The statement path builds each event once, in canonical form (src/audit/statement-recorder.ts): its body must be
// exactly what the generic path (prepareEvent → canonicalJson) makes of the same members, for any statement.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import type { AuditEventInput, AuditLog, RecordedStatement } from '../../src/audit/events.js';
import { prepareEvent } from '../../src/audit/prepare-event.js';
import { StatementInFlight, type StatementOutcome } from '../../src/audit/statement-record.js';
import { SessionStatementRecorder, type ParametersMode } from '../../src/audit/statement-recorder.js';

/** A small deterministic PRNG so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const TEXTS = ['', 'SELECT 1', 'select "quoted" \\ back', 'ünïcødé 🎉', 'line\nbreak\ttab', '\u0000\u001f\u2028', 'x'.repeat(300)];

/** Keeps what the recorder appends. */
class Appended implements AuditLog {
  readonly statements: RecordedStatement[] = [];
  appendStatement(statement: RecordedStatement): Promise<void> {
    this.statements.push(statement);
    return Promise.resolve();
  }
  emit(): Promise<void> {
    return Promise.reject(new Error('the statement path must not use emit'));
  }
  accepting = (): boolean => true;
  flush = (): Promise<void> => Promise.resolve();
  close = (): Promise<void> => Promise.resolve();
}

function randomStatement(random: () => number): { statement: StatementInFlight; outcome: StatementOutcome } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const maybe = (): boolean => random() < 0.5;
  const statement = new StatementInFlight(pick(['query', 'bind_execute', 'stmt_execute'] as const), pick(TEXTS), performance.now() - random() * 5,
    maybe() ? Array.from({ length: Math.floor(random() * 4) }, () => (maybe() ? null : pick(TEXTS))) : null,
    maybe() ? pick(TEXTS) : null, maybe() ? pick(TEXTS) : null, maybe() ? pick(TEXTS) : null);
  statement.rows = pick([0, 1, 2 ** 40]);
  statement.bytes = pick([0, 24, 1e7]);
  const outcome: StatementOutcome = maybe()
    ? { error: { code: '42P01', message: pick(TEXTS) } }
    : { ...(maybe() ? { tag: pick(TEXTS) } : {}), ...(maybe() ? { rows: pick([0, 7]) } : {}) };
  return { statement, outcome };
}

function record(mode: ParametersMode, maxSqlBytes: number | undefined, statement: StatementInFlight, outcome: StatementOutcome): RecordedStatement {
  const audit = new Appended();
  const recorder = new SessionStatementRecorder({ audit, session: 's_x', grant: 'g_y', dialect: 'postgres', parameters: mode,
    ...(maxSqlBytes === undefined ? {} : { maxSqlBytes }) });
  recorder.record(statement, outcome);
  const [recorded] = audit.statements;
  if (recorded === undefined) throw new Error('nothing recorded');
  return recorded;
}

describe('the statement path (SessionStatementRecorder)', () => {
  it('builds the body canonicalJson builds, for 5000 random statements in every parameters mode', () => {
    const random = prng(20261201);
    for (let i = 0; i < 5_000; i++) {
      const { statement, outcome } = randomStatement(random);
      const mode = (['full', 'omit'] as const)[i % 2] ?? 'full';
      const recorded = record(mode, random() < 0.2 ? 100 : undefined, statement, outcome);
      const event = JSON.parse(recorded.body) as Record<string, unknown>;
      expect(recorded.body, `statement ${i}`).toBe(canonicalJson(event));
      // The generic path, given the same members, makes the same bytes.
      const { pending } = prepareEvent(event as unknown as AuditEventInput);
      expect(pending.body, `statement ${i}`).toBe(recorded.body);
      expect(recorded).toMatchObject({ id: event.id, grant: 'g_y', session: 's_x', tsMs: Date.parse(String(event.ts)) });
    }
  });

  it('redacts password literals (once) and, under redact, every literal and parameter', () => {
    const secret = new StatementInFlight('query', "CREATE ROLE r LOGIN PASSWORD 'SECRET_3'");
    const full = record('full', undefined, secret, { tag: 'CREATE ROLE' });
    expect(full.body).not.toMatch(/SECRET/);
    const bound = new StatementInFlight('bind_execute', "select 'SECRET_4' where a = $1", performance.now(), ['SECRET_5', null], '', '');
    const redacted = JSON.parse(record('redact', undefined, bound, { tag: 'SELECT 1' }).body) as { sql: string; params: unknown[] };
    expect(redacted.sql).not.toMatch(/SECRET/);
    expect(redacted.params).toEqual(['?', null]);
  });

  it('leaves other producers to the generic path, which still redacts secret-named members', () => {
    const input = { type: 'statement', session: 's_x', grant: 'g_y', seq: 1, kind: 'query', sql: "ALTER USER u PASSWORD 'SECRET_1'",
      started: '2026-12-01T10:00:00.000Z', duration_us: 5, password: 'SECRET_2' } as const;
    const { pending, problem } = prepareEvent(input);
    expect(problem).toBeUndefined();
    expect(pending.body).not.toMatch(/SECRET/);
    expect(JSON.parse(pending.body)).toMatchObject({ password: '[redacted]', type: 'statement' });
  });
});
