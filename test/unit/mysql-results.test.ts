import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { CapabilityFlag as C, ColumnType as T, MariadbCapabilityFlag as M } from '../../protocols/mysql/constants.js';
import { ResultReader, type ResponseKind, type ResultEvent } from '../../protocols/mysql/result-reader.js';
import { decodeColumnDefinition41, scanColumnType } from '../../protocols/mysql/server-column-definition.js';
import {
  classifyResultPacket, decodeColumnCount, decodeEofPacket, decodeErrPacket, decodeLocalInfileRequest, decodeOkPacket,
  decodeStmtPrepareOk, encodeOkPacket,
} from '../../protocols/mysql/server-results.js';
import {
  captured, capturedResponses, cat, columnDef, eofPayload, errPayload, hex, lenenc, lenStr, okPayload, textRow, u16, u32,
} from '../support/mysql-frames.js';

const SERVER = 0x81fff7fe;
const CLI = { capabilities: SERVER & 0x00bfa28c, mariadbCapabilities: 0x1d }; // EOF packets, extended + cached metadata
const MYSQL2 = { capabilities: SERVER & 0x08bbf3ce, mariadbCapabilities: 0x08 }; // EOF packets, extended metadata
const DEPRECATE = { capabilities: C.CLIENT_PROTOCOL_41 | C.CLIENT_DEPRECATE_EOF | C.CLIENT_SESSION_TRACK | C.CLIENT_MULTI_RESULTS };
const P41 = C.CLIENT_PROTOCOL_41 | C.CLIENT_SESSION_TRACK;

function read(options: { capabilities: number; mariadbCapabilities?: number }, kind: ResponseKind, packets: readonly (string | Buffer)[]) {
  const reader = new ResultReader(options);
  reader.start(kind);
  const events: ResultEvent[] = [];
  packets.forEach((packet, i) => {
    expect(reader.done, `done before packet ${i}`).toBe(false);
    const event = reader.push(typeof packet === 'string' ? hex(packet) : packet);
    if (event !== null) events.push(event);
  });
  expect(reader.done).toBe(true);
  return events;
}

describe('OK, ERR, EOF', () => {
  it('decodes real OKs: info with SESSION_TRACK, the session-state block, and re-encodes the plain one', () => {
    expect(decodeOkPacket(captured.okInsertInfo, P41)).toMatchObject({ affectedRows: 2, lastInsertId: 1n, statusFlags: 2, warnings: 0,
      info: 'Records: 2  Duplicates: 0  Warnings: 0', sessionStateChanges: null });
    expect(decodeOkPacket(captured.okSessionSchema, P41)).toMatchObject({ statusFlags: 0x4002, info: '',
      sessionStateChanges: hex('01 05 04 74 65 73 74') });
    expect(encodeOkPacket({ affectedRows: 2, lastInsertId: 1, statusFlags: 2, info: 'Records: 2  Duplicates: 0  Warnings: 0' }, P41))
      .toEqual(captured.okInsertInfo);
    expect(encodeOkPacket({ statusFlags: 0x0a }, P41, 0xfe)).toEqual(okPayload(0, 0, 0x0a, 0, 0xfe));
  });

  it('reads info to the end without SESSION_TRACK, big insert ids as bigint, and refuses trailing bytes', () => {
    const ok = cat(okPayload(1, 0, 2).subarray(0, 1), lenenc(1), lenenc(2n ** 60n), u16(2), u16(1), 'Rows matched: 1');
    expect(decodeOkPacket(ok, C.CLIENT_PROTOCOL_41)).toMatchObject({ lastInsertId: 2n ** 60n, warnings: 1, info: 'Rows matched: 1' });
    expect(() => decodeOkPacket(cat(okPayload(0, 0, 2), lenStr('x'), 'junk'), P41)).toThrow(/trailing/);
    expect(() => decodeOkPacket(hex('ff'), P41)).toThrow(WireFormatError);
  });

  it('decodes ERR with and without the SQLSTATE marker', () => {
    expect(decodeErrPacket(hex(capturedResponses.mysql2MultiError[5] ?? ''), P41)).toEqual({ type: 'err', errno: 1146, sqlState: '42S02',
      message: "Table 'test.nope' doesn't exist" });
    expect(decodeErrPacket(cat([0xff], u16(1040), 'Too many connections'), 0)).toMatchObject({ sqlState: null, message: 'Too many connections' });
    expect(decodeErrPacket(errPayload(1, 'HY000', ''), P41)).toMatchObject({ sqlState: 'HY000', message: '' });
  });

  it('decodes EOF only when short', () => {
    expect(decodeEofPacket(eofPayload(1, 0x22), P41)).toEqual({ type: 'eof', warnings: 1, statusFlags: 0x22 });
    expect(() => decodeEofPacket(cat(eofPayload(0, 2), [0, 0, 0, 0]), P41)).toThrow(/too long/);
  });

  it.each<[number, number, boolean, string]>([
    [0xfe, 5, false, 'eof'], [0xfe, 8, false, 'eof'], [0xfe, 9, false, 'row'], [0xfe, 7, true, 'ok'], [0xfe, 0xfffffe, true, 'ok'],
    [0xfe, 0xffffff, true, 'row'], [0xff, 20, false, 'err'], [0x00, 7, true, 'row'], [0xfb, 1, false, 'row'], [0x01, 2, true, 'row'],
  ])('classifies first byte 0x%s, length %i, deprecateEof %s as %s', (first, length, deprecate, expected) => {
    expect(classifyResultPacket(first, length, deprecate)).toBe(expected);
  });
});

describe('result-set headers and column definitions', () => {
  it('decodes real column definitions with and without MariaDB extended metadata', () => {
    expect(decodeColumnDefinition41(hex(capturedResponses.cliSelect3[2] ?? ''), { extendedMetadata: true })).toMatchObject({
      catalog: 'def', name: 'b', extendedTypeInfo: { typeName: null, format: null }, characterSet: 33, columnLength: 3,
      columnType: T.MYSQL_TYPE_VAR_STRING, flags: 1, decimals: 39 });
    expect(decodeColumnDefinition41(hex(capturedResponses.deprecateEofFieldList[0] ?? ''), { extendedMetadata: false })).toMatchObject({
      schema: 'test', table: 't', orgTable: 't', name: 'id', orgName: 'id', columnType: T.MYSQL_TYPE_LONG, defaultValue: null });
    const json = cat(lenStr('def'), lenStr(''), lenStr(''), lenStr(''), lenStr('j'), lenStr(''), lenenc(6), [0], lenStr('json'),
      [0x0c], u16(45), u32(0), [T.MYSQL_TYPE_BLOB], u16(0x90), [0], [0, 0]);
    expect(decodeColumnDefinition41(json, { extendedMetadata: true }).extendedTypeInfo).toEqual({ typeName: 'json', format: null });
    expect(scanColumnType(json, { extendedMetadata: true })).toBe(T.MYSQL_TYPE_BLOB);
    expect(() => decodeColumnDefinition41(json, { extendedMetadata: false })).toThrow(WireFormatError);
  });

  it('reads the column count, metadata-follows byte, LOCAL INFILE request and PREPARE_OK', () => {
    expect(decodeColumnCount(hex('03 01'), true)).toEqual({ columnCount: 3, metadataFollows: true });
    expect(decodeColumnCount(hex('03 00'), true)).toEqual({ columnCount: 3, metadataFollows: false });
    expect(() => decodeColumnCount(hex('03 01'), false)).toThrow(/trailing/);
    expect(decodeLocalInfileRequest(captured.localInfileRequest)).toEqual({ type: 'local_infile_request', filename: '/etc/hostname' });
    expect(decodeStmtPrepareOk(hex(capturedResponses.deprecateEofPrepare[0] ?? ''), P41)).toEqual({ type: 'stmt_prepare_ok',
      statementId: 1, columnCount: 2, paramCount: 1, warnings: 0, metadataFollows: true });
  });
});

describe('ResultReader over real responses', () => {
  it('mariadb CLI: text result sets with EOF packets, extended and cached metadata', () => {
    expect(read(CLI, 'query', capturedResponses.cliSelect3)).toEqual([{ type: 'result_set', columnCount: 3,
      columnTypes: [T.MYSQL_TYPE_LONG, T.MYSQL_TYPE_VAR_STRING, T.MYSQL_TYPE_NULL], rowCount: 1, statusFlags: 2, warnings: 0, cursorOpened: false }]);
    expect(read(CLI, 'query', capturedResponses.cliNow6)).toMatchObject([{ columnTypes: [T.MYSQL_TYPE_DATETIME], rowCount: 1 }]);
  });

  it('one event per statement of a multi-statement query, in order, with the EOF and DEPRECATE_EOF shapes', () => {
    for (const [options, packets] of [[MYSQL2, capturedResponses.mysql2Multi], [DEPRECATE, capturedResponses.deprecateEofMulti]] as const) {
      const events = read(options, 'query', packets);
      expect(events.map((e) => e.type)).toEqual(['result_set', 'ok', 'result_set']);
      expect(events[0]).toMatchObject({ columnCount: 1, rowCount: 1, statusFlags: 0x0a });
      expect(events[1]).toMatchObject({ ok: { statusFlags: 0x0a } });
      expect(events[2]).toMatchObject({ statusFlags: 2 });
    }
  });

  it('an ERR ends a multi-statement batch', () => {
    expect(read(MYSQL2, 'query', capturedResponses.mysql2MultiError).map((e) => e.type)).toEqual(['result_set', 'err']);
  });

  it('prepare, cursor execute and fetch under DEPRECATE_EOF', () => {
    expect(read(DEPRECATE, 'stmt_prepare', capturedResponses.deprecateEofPrepare)).toEqual([{ type: 'stmt_prepare_ok', statementId: 1,
      paramCount: 1, columnCount: 2, warnings: 0 }]);
    expect(read(DEPRECATE, 'stmt_execute', capturedResponses.deprecateEofCursorExecute)).toMatchObject([{ type: 'result_set',
      columnCount: 2, columnTypes: [T.MYSQL_TYPE_LONG, T.MYSQL_TYPE_VAR_STRING], rowCount: 0, cursorOpened: true }]);
    expect(read(DEPRECATE, 'stmt_fetch', capturedResponses.deprecateEofFetch)).toEqual([{ type: 'rows_fetched', rowCount: 2,
      statusFlags: 0x42, lastRowSent: false }]);
    expect(read(DEPRECATE, 'stmt_fetch', capturedResponses.deprecateEofFetchLast)).toMatchObject([{ rowCount: 1, lastRowSent: true }]);
  });

  it('field list, statistics and COM_SET_OPTION', () => {
    expect(read(DEPRECATE, 'field_list', capturedResponses.deprecateEofFieldList)).toEqual([{ type: 'field_list', columnCount: 2 }]);
    expect(read(DEPRECATE, 'statistics', capturedResponses.statistics)).toMatchObject([{ type: 'statistics', text: expect.stringMatching(/^Uptime: /) }]);
    expect(read(DEPRECATE, 'simple', capturedResponses.deprecateEofSetOption)).toMatchObject([{ type: 'ok', ok: { header: 0xfe } }]);
    expect(read(MYSQL2, 'simple', [eofPayload(0, 2)])).toEqual([{ type: 'eof', eof: { type: 'eof', warnings: 0, statusFlags: 2 } }]);
  });
});

describe('ResultReader over built responses', () => {
  const intCol = (name: string, extended = false): Buffer => columnDef({ name, type: T.MYSQL_TYPE_LONGLONG }, extended);

  it('COM_STMT_PREPARE with EOF packets, and the binary result of mysql2\'s execute', () => {
    const nine = Array.from({ length: 9 }, (_, i) => intCol(`c${i}`, true));
    expect(read(MYSQL2, 'stmt_prepare', [hex('00 01000000 0900 0900 00 0000'), ...nine, eofPayload(0, 2), ...nine, eofPayload(0, 2)]))
      .toMatchObject([{ type: 'stmt_prepare_ok', paramCount: 9, columnCount: 9 }]);
    expect(read(MYSQL2, 'stmt_execute', [hex('09'), ...nine, eofPayload(0, 2), captured.binaryRow, eofPayload(0, 2)]))
      .toMatchObject([{ type: 'result_set', columnCount: 9, rowCount: 1 }]);
    expect(read(MYSQL2, 'stmt_prepare', [hex('00 02000000 0000 0000 00 0000')])).toMatchObject([{ statementId: 2 }]);
  });

  it('rows of every first byte, an ERR mid-rows, and metadata skipped by CACHE_METADATA', () => {
    const rows = [textRow(null, 'a'), textRow('', 'b'), textRow('x'.repeat(300), 'c'), textRow('1', null)];
    expect(read(MYSQL2, 'query', [hex('02'), intCol('a', true), intCol('b', true), eofPayload(0, 2), ...rows, eofPayload(0, 2)]))
      .toMatchObject([{ rowCount: 4 }]);
    expect(read(MYSQL2, 'query', [hex('01'), intCol('a', true), eofPayload(0, 2), textRow('1'), textRow('2'),
      errPayload(1317, '70100', 'Query execution was interrupted')])).toMatchObject([{ type: 'err', err: { errno: 1317 }, rowCount: 2, columnCount: 1 }]);
    const cached = { capabilities: DEPRECATE.capabilities, mariadbCapabilities: M.MARIADB_CLIENT_CACHE_METADATA };
    expect(read(cached, 'stmt_execute', [hex('02 00'), hex('00 00 01'), okPayload(0, 0, 2, 0, 0xfe)]))
      .toMatchObject([{ columnCount: 2, columnTypes: null, rowCount: 1 }]);
  });

  it('counts a 16 MiB text row starting with 0xfe (retained prefix, true length) under DEPRECATE_EOF', () => {
    const reader = new ResultReader(DEPRECATE);
    reader.start('query');
    expect(reader.push(hex('01'))).toBeNull();
    expect(reader.push(columnDef({ name: 'big', type: T.MYSQL_TYPE_LONG_BLOB }))).toBeNull();
    expect(reader.push(hex('fe 00 00 00 01 00 00 00 00 61'), 9 + 0x1000000)).toBeNull();
    expect(reader.push(okPayload(0, 0, 2, 0, 0xfe))).toMatchObject({ type: 'result_set', rowCount: 1 });
  });

  it('LOCAL INFILE request, then the server\'s verdict', () => {
    expect(read(MYSQL2, 'query', [captured.localInfileRequest, okPayload(3, 0, 2)]).map((e) => e.type)).toEqual(['local_infile_request', 'ok']);
    expect(read(MYSQL2, 'query', [captured.localInfileRequest, errPayload(1148, '42000', 'not allowed')]).map((e) => e.type))
      .toEqual(['local_infile_request', 'err']);
  });

  it('skips MariaDB progress reports only when negotiated; reports unsolicited ERRs; refuses other strays', () => {
    const progress = cat([0xff, 0xff, 0xff, 1, 1], u16(500), [0], lenStr('stage'));
    const withProgress = { capabilities: DEPRECATE.capabilities, mariadbCapabilities: M.MARIADB_CLIENT_PROGRESS };
    expect(read(withProgress, 'simple', [progress, okPayload(0, 0, 2)]).map((e) => e.type)).toEqual(['ok']);
    expect(read(DEPRECATE, 'simple', [progress]).map((e) => e.type)).toEqual(['err']);
    const idle = new ResultReader(DEPRECATE);
    expect(idle.push(errPayload(1927, '70100', 'Connection was killed'))).toMatchObject({ type: 'err', err: { errno: 1927 } });
    expect(() => idle.push(okPayload(0, 0, 2))).toThrow(/no command is pending/);
    idle.start('none');
    expect(idle.done).toBe(true);
    idle.start('query');
    expect(() => idle.start('query')).toThrow(/still incomplete/);
    expect(() => idle.push(hex(''))).toThrow(WireFormatError);
  });
});
