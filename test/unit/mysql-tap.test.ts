// The MySQL tap's statement events (src/engines/mysql/tap.ts): which text each result of a COM_QUERY gets. Server
// responses are built by the test-only builders of test/support/mysql-frames.ts from the protocol docs; the shapes
// (a CALL's result sets with SERVER_MORE_RESULTS_EXISTS, then its OK) are what MariaDB 10.11 sends.
import { describe, expect, it } from 'vitest';
import type { ClientCommand } from '../../protocols/mysql/client-commands.js';
import type { StatementFields } from '../../src/audit/events.js';
import { statementFields, type StatementInFlight, type StatementOutcome } from '../../src/audit/statement-record.js';
import type { StatementRecorder } from '../../src/audit/statement-recorder.js';
import { MysqlTap } from '../../src/engines/mysql/tap.js';
import { cat, columnDef, eofPayload, errPayload, lenenc, okPayload, textRow, u16, u32, u64 } from '../support/mysql-frames.js';

const PROTOCOL_41 = 0x200;
const MULTI_STATEMENTS = 0x10000;
const MULTI_RESULTS = 0x20000;
const TRANSACTIONS = 0x2000;
const MORE_RESULTS = 0x0008;
const AUTOCOMMIT = 0x0002;
const VAR_STRING = 0xfd;

class Recorded implements StatementRecorder {
  readonly wantsParameters = true;
  readonly events: Omit<StatementFields, 'seq'>[] = [];
  record(statement: StatementInFlight, outcome: StatementOutcome): void {
    this.events.push(statementFields(statement, outcome));
  }
}

const query = (sql: string): ClientCommand => ({ type: 'query', attributes: [], sql, sqlByteLength: Buffer.byteLength(sql), sqlTruncated: false });

/** One text result set (one column, `rows` rows), its closing EOF carrying `status`. */
const resultSet = (rows: number, status: number): Buffer[] => [
  lenenc(1), columnDef({ name: 'v', type: VAR_STRING }), eofPayload(0, AUTOCOMMIT),
  ...Array.from({ length: rows }, (_, i) => textRow(String(i))), eofPayload(0, status),
];

function run(capabilities: number, steps: readonly (readonly [ClientCommand, readonly Buffer[]])[]): Omit<StatementFields, 'seq'>[] {
  const recorder = new Recorded();
  const tap = new MysqlTap(recorder, capabilities, 0, 4096);
  for (const [command, response] of steps) {
    const payload = command.type === 'query' ? Buffer.concat([Buffer.from([0x03]), Buffer.from(command.sql)]) : Buffer.from([0x1b, 0, 0]);
    tap.onCommand(command, payload, payload.length);
    for (const packet of response) tap.onServerPacket(packet, packet.length);
    expect(tap.busy).toBe(false);
  }
  return recorder.events;
}

const summary = (events: readonly Omit<StatementFields, 'seq'>[]): string[] =>
  events.map((event) => `${event.sql} → ${event.error ? `ERR ${event.error.code}` : `${event.tag ?? ''} ${event.rows ?? ''}`}`);

describe('MysqlTap: texts of a COM_QUERY’s results', () => {
  const multi = PROTOCOL_41 | TRANSACTIONS | MULTI_STATEMENTS | MULTI_RESULTS;

  it('a CALL keeps its text for its result sets and its OK; the next statement gets the next result', () => {
    const events = run(multi, [[query('CALL p(); select 5'), [
      ...resultSet(1, AUTOCOMMIT | MORE_RESULTS), ...resultSet(2, AUTOCOMMIT | MORE_RESULTS),
      okPayload(0, 0, AUTOCOMMIT | MORE_RESULTS), ...resultSet(1, AUTOCOMMIT),
    ]]]);
    expect(summary(events)).toEqual([
      'CALL p() → RESULT SET 1', 'CALL p() → RESULT SET 2', 'CALL p() → OK 0', 'select 5 → RESULT SET 1',
    ]);
  });

  it('a compound statement is one text with one result', () => {
    const body = 'CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END';
    const events = run(multi, [[query(`${body}; select 1`), [okPayload(0, 0, AUTOCOMMIT | MORE_RESULTS), ...resultSet(1, AUTOCOMMIT)]]]);
    expect(summary(events)).toEqual([`${body} → OK 0`, 'select 1 → RESULT SET 1']);
  });

  it('without CLIENT_MULTI_STATEMENTS the text is one statement; COM_SET_OPTION turns splitting on and off', () => {
    const syntax = errPayload(1064, '42000', "You have an error in your SQL syntax near 'select 2'");
    const setOption = (option: number): ClientCommand => ({ type: 'set_option', option });
    const events = run(PROTOCOL_41 | TRANSACTIONS, [
      [query('select 1; select 2'), [syntax]],
      [setOption(0), [eofPayload(0, AUTOCOMMIT)]],
      [query('select 1; select 2'), [...resultSet(1, AUTOCOMMIT | MORE_RESULTS), ...resultSet(1, AUTOCOMMIT)]],
      [setOption(1), [eofPayload(0, AUTOCOMMIT)]],
      [query('select 3; select 4'), [syntax]],
    ]);
    expect(summary(events)).toEqual([
      'select 1; select 2 → ERR 1064', 'select 1 → RESULT SET 1', 'select 2 → RESULT SET 1', 'select 3; select 4 → ERR 1064',
    ]);
  });
});

describe('MysqlTap: COM_STMT_EXECUTE it cannot fully decode (issue 19 defect 10b)', () => {
  const caps = PROTOCOL_41 | TRANSACTIONS | MULTI_RESULTS;
  const LONGLONG = 0x08;
  /** PREPARE_OK for statement 7: one column, `params` parameters (their definitions follow, then the column's). */
  const prepareOk = (params: number): Buffer[] => [
    cat([0x00], u32(7), u16(1), u16(params), [0], u16(0)),
    ...Array.from({ length: params }, () => columnDef({ name: '?', type: VAR_STRING })), ...(params > 0 ? [eofPayload(0, AUTOCOMMIT)] : []),
    columnDef({ name: 'one', type: LONGLONG }), eofPayload(0, AUTOCOMMIT),
  ];
  /** A binary result set of one row, as the server answers an execute. */
  const binaryResult = [lenenc(1), columnDef({ name: 'one', type: LONGLONG }), eofPayload(0, AUTOCOMMIT), cat([0x00, 0x00], u64(1n)), eofPayload(0, AUTOCOMMIT)];

  function executeOnce(paramsInPrepare: number, execute: Buffer): Omit<StatementFields, 'seq'> | undefined {
    const recorder = new Recorded();
    const tap = new MysqlTap(recorder, caps, 0, 4096);
    const prepare: ClientCommand = { type: 'stmt_prepare', sql: 'select 1 as one', sqlByteLength: 15, sqlTruncated: false };
    tap.onCommand(prepare, cat([0x16], 'select 1 as one'), 16);
    for (const packet of prepareOk(paramsInPrepare)) tap.onServerPacket(packet, packet.length);
    tap.onCommand({ type: 'stmt_execute', statementId: 7 }, execute, execute.length);
    for (const packet of binaryResult) tap.onServerPacket(packet, packet.length);
    expect(tap.busy).toBe(false);
    return recorder.events[1];
  }

  it('values for a statement without placeholders (mysql2 execute(sql, [5])): recorded, the extra bytes named', () => {
    // null bitmap, new-params-bound, one LONGLONG type, its 8-byte value: what the server skips for a 0-parameter statement.
    const execute = cat([0x17], u32(7), [0], u32(1), [0x00], [1], [LONGLONG, 0], u64(5n));
    expect(executeOnce(0, execute)).toMatchObject({
      kind: 'stmt_execute', sql: 'select 1 as one', tag: 'RESULT SET', rows: 1,
      undecoded: 'COM_STMT_EXECUTE: 12 bytes after the values of the statement\'s 0 parameters (ignored by the server)',
    });
  });

  it('a malformed execute: recorded with the server\'s answer and what failed to decode, no parameters', () => {
    const neverBound = cat([0x17], u32(7), [0], u32(1), [0x00], [0]); // types never bound, none sent
    const event = executeOnce(1, neverBound);
    expect(event).toMatchObject({ kind: 'stmt_execute', sql: 'select 1 as one', undecoded: 'COM_STMT_EXECUTE: parameter types were never bound' });
    expect(event?.params).toBeUndefined();
  });
});
