import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { decodeClientCommand, undecodableCommand, type ClientCommand } from '../../protocols/mysql/client-commands.js';
import { CapabilityFlag as C, commandName } from '../../protocols/mysql/constants.js';
import { PacketSequenceError, PacketTooLargeError } from '../../protocols/mysql/packet-framer.js';
import { responseKindFor } from '../../protocols/mysql/result-reader.js';
import { errorForWireFormat, mysqlError } from '../../protocols/mysql/server-errors.js';
import { encodeErrPacket } from '../../protocols/mysql/server-results.js';
import { captured, cat, hex, lenenc, lenStr, nul, u16, u32 } from '../support/mysql-frames.js';

const MARIADB_CAPS = 0x81fff7fe & 0x00bfa28c; // what the mariadb CLI negotiated with MariaDB 10.11
const MYSQL8_CAPS = C.CLIENT_PROTOCOL_41 | C.CLIENT_QUERY_ATTRIBUTES;
const decode = (payload: Buffer, capabilities = MARIADB_CAPS): ClientCommand => decodeClientCommand(payload, { capabilities });

describe('decodeClientCommand', () => {
  it.each<[string, Buffer, ClientCommand]>([
    ['COM_QUIT', hex('01'), { type: 'quit' }],
    ['COM_PING', hex('0e'), { type: 'ping' }],
    ['COM_STATISTICS', hex('09'), { type: 'statistics' }],
    ['COM_RESET_CONNECTION', hex('1f'), { type: 'reset_connection' }],
    ['COM_INIT_DB', cat([0x02], 'test'), { type: 'init_db', database: 'test' }],
    ['COM_FIELD_LIST', cat([0x04], nul('t'), '%'), { type: 'field_list', table: 't', wildcard: '%' }],
    ['COM_STMT_EXECUTE', cat([0x17], u32(7), [0], u32(1)), { type: 'stmt_execute', statementId: 7 }],
    ['COM_STMT_CLOSE', cat([0x19], u32(0x01020304)), { type: 'stmt_close', statementId: 0x01020304 }],
    ['COM_STMT_RESET', cat([0x1a], u32(1)), { type: 'stmt_reset', statementId: 1 }],
    ['COM_STMT_FETCH', cat([0x1c], u32(1), u32(2)), { type: 'stmt_fetch', statementId: 1, rowCount: 2 }],
    ['COM_SET_OPTION', cat([0x1b], u16(1)), { type: 'set_option', option: 1 }],
    ['COM_STMT_BULK_EXECUTE', cat([0xfa], u32(3), u16(0x80), 'rest'), { type: 'stmt_bulk_execute', statementId: 3, flags: 0x80 }],
    ['COM_CHANGE_USER', cat([0x11], nul('bob'), [0]), { type: 'change_user' }],
    ['COM_BINLOG_DUMP', cat([0x12], u32(4), u16(0), u32(1), 'mysql-bin.000001'), { type: 'binlog_dump' }],
    ['COM_BINLOG_DUMP_GTID', cat([0x1e], Buffer.alloc(12)), { type: 'binlog_dump_gtid' }],
    ['COM_REGISTER_SLAVE', cat([0x15], u32(2), [0, 0, 0], u16(3306), u32(0), u32(0)), { type: 'register_slave' }],
    ['COM_PROCESS_KILL', cat([0x0c], u32(5)), { type: 'process_kill', connectionId: 5 }],
    ['COM_CREATE_DB', cat([0x05], 'db'), { type: 'other', command: 0x05, name: 'COM_CREATE_DB' }],
    ['an undefined byte', hex('30'), { type: 'unknown', command: 0x30 }],
  ])('decodes %s', (_name, payload, expected) => {
    expect(decode(payload)).toEqual(expected);
  });

  it('decodes the mariadb CLI\'s COM_QUERY and a COM_STMT_PREPARE', () => {
    expect(decode(hex('0373656c6563742031206173206120'))).toEqual({
      type: 'query', sql: 'select 1 as a ', sqlByteLength: 14, sqlTruncated: false, attributes: [] });
    expect(decode(cat([0x16], 'select ?'))).toEqual({ type: 'stmt_prepare', sql: 'select ?', sqlByteLength: 8, sqlTruncated: false });
  });

  it('keeps COM_STMT_SEND_LONG_DATA data as a view with its true length', () => {
    const payload = cat([0x18], u32(9), u16(2), 'chunk');
    const decoded = decodeClientCommand(payload, { capabilities: MARIADB_CAPS, payloadLength: 1_000_007 });
    expect(decoded).toMatchObject({ type: 'stmt_send_long_data', statementId: 9, paramId: 2, dataLength: 1_000_000 });
    if (decoded.type !== 'stmt_send_long_data') throw new Error('unreachable');
    expect(decoded.data.buffer).toBe(payload.buffer);
    expect(Buffer.from(decoded.data).toString()).toBe('chunk');
  });

  it('cuts a retained SQL prefix at a character boundary and records the original length', () => {
    const sql = Buffer.from("insert into t values ('héllo')", 'utf8');
    const cut = cat([0x03], sql.subarray(0, 24)); // ends inside "é"
    expect(decodeClientCommand(cut, { capabilities: MARIADB_CAPS, payloadLength: 1 + sql.length })).toEqual({
      type: 'query', sql: "insert into t values ('h", sqlByteLength: sql.length, sqlTruncated: true, attributes: [],
    });
  });

  it('reads MySQL query attributes before the SQL when CLIENT_QUERY_ATTRIBUTES is negotiated', () => {
    expect(decode(cat([0x03], [0x00, 0x01], 'select 1'), MYSQL8_CAPS)).toMatchObject({ sql: 'select 1', attributes: [] });
    const withAttributes = cat([0x03], lenenc(2), lenenc(1), [0b10], [1], [0xfd, 0], lenStr('trace_id'), [0x08, 0x80], lenStr('n'),
      lenStr('abc'), 'select 1');
    expect(decode(withAttributes, MYSQL8_CAPS)).toEqual({
      type: 'query', sql: 'select 1', sqlByteLength: 8, sqlTruncated: false,
      attributes: [{ name: 'trace_id', value: { type: 'value', text: 'abc' } }, { name: 'n', value: { type: 'null' } }],
    });
    // MariaDB never negotiates the flag: the same bytes are SQL.
    expect(decode(cat([0x03], [0x00, 0x01], 'select 1'))).toMatchObject({ sql: '\u0000\u0001select 1' });
    expect(() => decode(cat([0x03], [0x01, 0x02], 'x'), MYSQL8_CAPS)).toThrow(/parameter_set_count 2/);
    expect(() => decode(cat([0x03], [0x01, 0x01, 0x00, 0x00], 'x'), MYSQL8_CAPS)).toThrow(/new_params_bind_flag 0/);
  });

  it('refuses empty packets and short fixed fields; ignores bytes after the fields, as servers do', () => {
    expect(() => decode(hex(''))).toThrow(/empty payload/);
    expect(() => decode(hex('19 01 00'))).toThrow(WireFormatError);
    expect(() => decode(cat([0x04], 't'))).toThrow(/NUL/);
    expect(decode(hex('19 01 00 00 00 ff'))).toEqual({ type: 'stmt_close', statementId: 1 });
    expect(decode(hex('0e 00'))).toEqual({ type: 'ping' });
    expect(decode(hex('1b 01 00 ff'))).toEqual({ type: 'set_option', option: 1 });
  });

  it('an undecodable body keeps its command byte, and with it the response the server gives', () => {
    expect(undecodableCommand(hex('19 01'), 'short')).toEqual({ type: 'undecodable', command: 0x19, name: 'COM_STMT_CLOSE', reason: 'short' });
    expect(undecodableCommand(hex(''), 'empty')).toMatchObject({ command: 0x00, name: 'COM_SLEEP' });
    const kinds = ['19 01', '17 01', '03', '1c 01', '04 74', '18 01', '1b', '00', '']
      .map((bytes) => responseKindFor(undecodableCommand(hex(bytes), 'x')));
    expect(kinds).toEqual(['none', 'stmt_execute', 'query', 'stmt_fetch', 'field_list', 'none', 'simple', 'simple', 'simple']);
  });

  it('names commands as the docs do', () => {
    expect(commandName(0x03)).toBe('COM_QUERY');
    expect(commandName(0xfa)).toBe('COM_STMT_BULK_EXECUTE');
    expect(commandName(0x30)).toBe('COM_0x30');
  });

  it('says which response each command gets', () => {
    const kinds = [hex('03 31'), hex('16 31'), cat([0x17], u32(1)), cat([0x1c], u32(1), u32(1)), cat([0x04], nul('t')), hex('09'),
      hex('01'), cat([0x19], u32(1)), cat([0x18], u32(1), u16(0)), hex('0e'), hex('0a'), hex('0c 01 00 00 00'), hex('30')]
      .map((payload) => responseKindFor(decode(payload)));
    expect(kinds).toEqual(['query', 'stmt_prepare', 'stmt_execute', 'stmt_fetch', 'field_list', 'statistics',
      'none', 'none', 'none', 'simple', 'query', 'simple', 'simple']);
  });
});

describe('server-errors: named constructors', () => {
  it.each<[string, { errno: number; sqlState: string; message: string }, number, string]>([
    ['accessDenied', mysqlError.accessDenied('g_abc', '10.1.2.3', true), 1045, '28000'],
    ['dbAccessDenied', mysqlError.dbAccessDenied('g_abc', 'other', '10.1.2.3'), 1044, '42000'],
    ['connectionKilled', mysqlError.connectionKilled(), 1927, '70100'],
    ['grantExpired', mysqlError.grantExpired('g_abc'), 1927, '70100'],
    ['queryInterrupted', mysqlError.queryInterrupted(), 1317, '70100'],
    ['unknownCommand', mysqlError.unknownCommand(), 1047, '08S01'],
    ['packetTooLarge', mysqlError.packetTooLarge(), 1153, '08S01'],
    ['packetsOutOfOrder', mysqlError.packetsOutOfOrder(), 1156, '08S01'],
    ['malformedPacket', mysqlError.malformedPacket(), 1835, 'HY000'],
    ['notSupported', mysqlError.notSupported('COM_CHANGE_USER'), 1235, '42000'],
    ['auditUnavailable', mysqlError.auditUnavailable(), 1290, 'HY000'],
    ['upstreamUnavailable', mysqlError.upstreamUnavailable('connect ECONNREFUSED'), 1040, '08004'],
    ['upstreamLost', mysqlError.upstreamLost(), 1158, '08S01'],
  ])('%s → %i (%s)', (_name, fields, errno, sqlState) => {
    expect(fields).toMatchObject({ errno, sqlState });
  });

  it('writes the messages clients and operators expect', () => {
    expect(mysqlError.accessDenied('g_abc', '10.1.2.3', false).message).toBe("Access denied for user 'g_abc'@'10.1.2.3' (using password: NO)");
    expect(mysqlError.dbAccessDenied('g_abc', 'other').message).toBe("Access denied for user 'g_abc'@'%' to database 'other'");
    expect(mysqlError.grantExpired('g_abc').message).toBe('Connection was killed: grant g_abc expired');
    expect(mysqlError.notSupported('LOAD DATA LOCAL INFILE').message).toBe('LOAD DATA LOCAL INFILE is not supported through jitgate');
  });

  it('encodes unknownCommand exactly as MariaDB sends it', () => {
    expect(encodeErrPacket(mysqlError.unknownCommand(), C.CLIENT_PROTOCOL_41)).toEqual(captured.unknownCommand);
    expect(encodeErrPacket(mysqlError.unknownCommand(), 0)).toEqual(cat([0xff], u16(1047), 'Unknown command'));
    expect(() => encodeErrPacket({ errno: 1, sqlState: '0800', message: '' }, C.CLIENT_PROTOCOL_41)).toThrow(/SQLSTATE/);
  });

  it('maps codec failures in one place', () => {
    expect(errorForWireFormat(new PacketTooLargeError(2, 1)).errno).toBe(1153);
    expect(errorForWireFormat(new PacketSequenceError(1, 3)).errno).toBe(1156);
    expect(errorForWireFormat(new WireFormatError('x')).errno).toBe(1835);
  });
});
