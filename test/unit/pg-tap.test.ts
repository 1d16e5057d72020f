// The Postgres tap (src/engines/postgres/tap.ts): a client body it cannot decode is recorded, never a session end —
// the relay has sent it on and the server answers for itself (issue 19, defect 9) — and `running` says whether the
// server still has work a CancelRequest could stop. Messages are built by test/support/pg-frames.ts from the protocol
// docs; the overflowed Bind is laid out exactly as node-postgres writes 70,000 parameters.
import { describe, expect, it } from 'vitest';
import type { StatementFields } from '../../src/audit/events.js';
import { statementFields, type StatementInFlight, type StatementOutcome } from '../../src/audit/statement-record.js';
import type { StatementRecorder } from '../../src/audit/statement-recorder.js';
import { PostgresTap } from '../../src/engines/postgres/tap.js';
import { bodyOf, cstr, frame, int16, int32, seededRandom, value } from '../support/pg-frames.js';

class Recorded implements StatementRecorder {
  readonly wantsParameters = true;
  readonly events: Omit<StatementFields, 'seq'>[] = [];
  record(statement: StatementInFlight, outcome: StatementOutcome): void {
    this.events.push(statementFields(statement, outcome));
  }
}

const client = (tap: PostgresTap, ...messages: Buffer[]): void => {
  for (const message of messages) tap.onFrontend(message[0] as number, bodyOf(message), message.length);
};
const server = (tap: PostgresTap, ...messages: Buffer[]): void => {
  for (const message of messages) tap.onBackend(message[0] as number, bodyOf(message), message.length);
};

const parse = (sql: string, types: readonly number[] = [], name = ''): Buffer => frame('P', cstr(name), cstr(sql), int16(types.length), ...types.map(int32));
const bind = (values: readonly (string | null)[], formats: readonly number[] = []): Buffer =>
  frame('B', cstr(''), cstr(''), int16(formats.length), ...formats.map(int16), int16(values.length), ...values.map(value), int16(0));
const describePortal = frame('D', 'P', [0]);
const execute = frame('E', cstr(''), int32(0));
const sync = frame('S');
const query = (sql: string): Buffer => frame('Q', cstr(sql));
const parseComplete = frame('1');
const bindComplete = frame('2');
const noData = frame('n');
const ready = (status = 'I'): Buffer => frame('Z', status);
const commandComplete = (tag: string): Buffer => frame('C', cstr(tag));
const errorResponse = (code: string, message: string): Buffer => frame('E', 'S', cstr('ERROR'), 'V', cstr('ERROR'), 'C', cstr(code), 'M', cstr(message), [0]);

/** node-postgres' Bind for `count` text parameters: both counts written as `count & 0xffff`, every format and value. */
function overflowedBind(count: number): Buffer {
  const formats = Buffer.alloc(2 * count); // every one 0, text
  const values = Buffer.concat(Array.from({ length: count }, (_, i) => value(String(i + 1))));
  return frame('B', cstr(''), cstr(''), int16(count & 0xffff), formats, int16(count & 0xffff), values, int16(1), int16(0));
}

describe('PostgresTap: bodies it cannot decode go on to the server, and are recorded', () => {
  it('pg\'s overflowed Bind (70,000 parameters): one event with the SQL, `undecoded`, and the server\'s 08P01', () => {
    const recorder = new Recorded();
    const tap = new PostgresTap(recorder);
    const sql = 'select count(*) from t where id in ($1, …)';
    expect(() => client(tap, parse(sql), overflowedBind(70_000), describePortal, execute, sync)).not.toThrow();
    const serverError = 'bind message has 4464 parameter formats but 0 parameters';
    server(tap, parseComplete, errorResponse('08P01', serverError), ready());
    expect(recorder.events).toHaveLength(1);
    expect(recorder.events[0]).toMatchObject({ kind: 'bind_execute', sql, error: { code: '08P01', message: serverError }, undecoded: serverError });
    expect(recorder.events[0]?.params).toBeUndefined();
    expect(tap.idle).toBe(true);
    // The session goes on, and the next statement is paired as usual.
    client(tap, query('select 1'));
    server(tap, frame('T', int16(0)), commandComplete('SELECT 1'), ready());
    expect(recorder.events.map((event) => [event.sql, event.tag, event.undecoded])).toEqual([[sql, undefined, serverError], ['select 1', 'SELECT 1', undefined]]);
  });

  it('a Bind the server accepts although its parameters are not legible to the tap: recorded at Execute with the note', () => {
    const recorder = new Recorded();
    const tap = new PostgresTap(recorder);
    client(tap, parse('select $1::int4', [23]), bind(['abc'], [1]), execute, sync); // a binary int4 of 3 bytes
    server(tap, parseComplete, bindComplete, frame('D', int16(1), value('1')), commandComplete('SELECT 1'), ready());
    expect(recorder.events).toEqual([expect.objectContaining({
      kind: 'bind_execute', sql: 'select $1::int4', tag: 'SELECT 1', rows: 1, undecoded: 'Bind parameters: binary int4: expected 4 bytes, got 3',
    })]);
  });

  it('a Query without its NUL, a Parse cut short, an Execute without its row limit: each recorded with what could be read', () => {
    const recorder = new Recorded();
    const tap = new PostgresTap(recorder);
    client(tap, frame('Q', 'select 1'));
    server(tap, errorResponse('08P01', 'invalid string in message'), ready());
    client(tap, frame('P', cstr('s1'), cstr('select 2'), int16(2), int32(23)), sync);
    server(tap, errorResponse('08P01', 'insufficient data left in message'), ready());
    client(tap, parse('select 3'), bind([]), frame('E', cstr('')), sync);
    server(tap, parseComplete, bindComplete, errorResponse('08P01', 'insufficient data left in message'), ready());
    expect(recorder.events.map((event) => [event.kind, event.sql, event.statement_name, event.error?.code, event.undecoded])).toEqual([
      ['query', 'select 1', undefined, '08P01', 'Query text: missing NUL terminator'],
      ['prepare', 'select 2', 's1', '08P01', 'Parse parameter type count: 2 entries need at least 8 bytes, 4 left'],
      ['bind_execute', 'select 3', '', '08P01', 'Execute row limit: needs 4 bytes, 0 left'],
    ]);
    expect(tap.idle).toBe(true);
  });

  it('never throws on random bodies of any tapped type (seeded)', () => {
    const random = seededRandom(19);
    const tap = new PostgresTap(new Recorded());
    const types = ['Q', 'P', 'B', 'E', 'C', 'S', 'F', 'D', 'f', 'd'];
    for (let i = 0; i < 20_000; i++) {
      const body = Buffer.from(Array.from({ length: Math.floor(random() * 24) }, () => (random() < 0.3 ? 0 : Math.floor(random() * 256))));
      const type = types[i % types.length] as string;
      expect(() => tap.onFrontend(type.charCodeAt(0), body, body.length + 5)).not.toThrow();
    }
  });
});

describe('PostgresTap.running: is there something a CancelRequest could stop?', () => {
  it('an extended batch runs until the server answers; an error it has answered is not running, only owed its ReadyForQuery', () => {
    const tap = new PostgresTap(new Recorded());
    client(tap, parse('select 1/0'), bind([]), describePortal, execute, sync);
    expect(tap.running).toBe(true);
    server(tap, parseComplete, bindComplete, noData);
    expect(tap.running).toBe(true);
    server(tap, errorResponse('22012', 'division by zero'));
    expect({ running: tap.running, idle: tap.idle }).toEqual({ running: false, idle: false });
    server(tap, ready());
    expect({ running: tap.running, idle: tap.idle }).toEqual({ running: false, idle: true });
  });

  it('a simple Query runs until its last statement is answered, not until its ReadyForQuery', () => {
    const tap = new PostgresTap(new Recorded());
    client(tap, query('select 1; select pg_sleep(10)'));
    server(tap, commandComplete('SELECT 1'));
    expect(tap.running).toBe(true);
    server(tap, commandComplete('SELECT 1'));
    expect({ running: tap.running, idle: tap.idle }).toEqual({ running: false, idle: false });
    client(tap, query('selec 1'));
    server(tap, ready());
    expect(tap.running).toBe(true);
    server(tap, errorResponse('42601', 'syntax error at or near "selec"'));
    expect({ running: tap.running, idle: tap.idle }).toEqual({ running: false, idle: false });
  });

  it('a lone Sync is not running; a statement pipelined behind an answered error is', () => {
    const tap = new PostgresTap(new Recorded());
    client(tap, sync);
    expect({ running: tap.running, idle: tap.idle }).toEqual({ running: false, idle: false });
    server(tap, ready());
    client(tap, parse('selec'), sync, query('select pg_sleep(10)'));
    server(tap, errorResponse('42601', 'syntax error'));
    expect(tap.running).toBe(true);
    server(tap, ready());
    expect(tap.running).toBe(true);
  });
});

// Keep the builder honest: the overflowed Bind's declared counts are what pg writes.
it('overflowedBind writes 4464 for 70,000', () => {
  const message = overflowedBind(70_000);
  expect(message.readUInt16BE(7)).toBe(4464);
  expect(String.fromCharCode(message[0] as number)).toBe('B');
});
