// Test-only MySQL byte builders written from the protocol docs, plus packets captured from a real MariaDB 10.11 and
// real clients (libmariadb's `mariadb` CLI 3.3, mysql2 3.24) through a recording TCP proxy. Imports nothing from
// protocols/, so golden bytes can never agree with the codec merely because they share code (STYLE rule 14).

type Part = Uint8Array | string | readonly number[];

export function hex(text: string): Buffer {
  const clean = text.replace(/[\s|]/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${text.slice(0, 40)}`);
  return Buffer.from(clean, 'hex');
}

/** Concatenates parts: strings are UTF-8, number arrays are bytes. */
export function cat(...parts: Part[]): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part as Uint8Array))));
}

export const u8 = (value: number): Buffer => Buffer.from([value & 0xff]);
export const u16 = (value: number): Buffer => Buffer.from([value & 0xff, (value >>> 8) & 0xff]);
export const u24 = (value: number): Buffer => Buffer.from([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff]);
export const u32 = (value: number): Buffer => Buffer.from([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
export function u64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}
export const nul = (text: string): Buffer => cat(text, [0]);

/** Minimal length-encoded integer, straight from the table in the docs. */
export function lenenc(value: number | bigint): Buffer {
  const v = BigInt(value);
  if (v < 251n) return u8(Number(v));
  if (v < 0x10000n) return cat([0xfc], u16(Number(v)));
  if (v < 0x1000000n) return cat([0xfd], u24(Number(v)));
  return cat([0xfe], u64(v));
}
export const lenStr = (value: string | Uint8Array): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  return cat(lenenc(bytes.length), bytes);
};

export const MAX_FRAME = 0xffffff;

/** One frame: 3-byte LE length, sequence id, payload (which must fit one frame). */
export function frame(sequenceId: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME) throw new Error('payload too large for one frame');
  return cat(u24(payload.length), [sequenceId & 0xff], payload);
}

/** A whole packet: frames of 0xffffff while bytes remain at that size, then the rest (possibly an empty frame). */
export function packet(sequenceId: number, payload: Uint8Array): Buffer {
  const frames: Buffer[] = [];
  let offset = 0;
  let seq = sequenceId;
  for (;;) {
    const length = Math.min(MAX_FRAME, payload.length - offset);
    frames.push(frame(seq, payload.subarray(offset, offset + length)));
    offset += length;
    seq = (seq + 1) & 0xff;
    if (length < MAX_FRAME) return Buffer.concat(frames);
  }
}

export interface HandshakeV10Spec {
  readonly version: string;
  readonly connectionId: number;
  readonly scramble: Buffer;
  readonly capabilities: number;
  readonly charset: number;
  readonly status: number;
  readonly plugin: string;
  readonly mariadbCapabilities?: number;
}

/** HandshakeV10 per dev.mysql.com, with MariaDB's capabilities in the last 4 of the 10 reserved bytes. */
export function handshakeV10(spec: HandshakeV10Spec): Buffer {
  const caps = spec.capabilities >>> 0;
  return cat(
    [10], nul(spec.version), u32(spec.connectionId), spec.scramble.subarray(0, 8), [0],
    u16(caps & 0xffff), [spec.charset], u16(spec.status), u16(caps >>> 16), [spec.scramble.length + 1],
    Buffer.alloc(6), u32(spec.mariadbCapabilities ?? 0), spec.scramble.subarray(8), [0], nul(spec.plugin),
  );
}

export const errPayload = (errno: number, sqlState: string, message: string): Buffer =>
  cat([0xff], u16(errno), '#', sqlState, message);
export const eofPayload = (warnings: number, status: number): Buffer => cat([0xfe], u16(warnings), u16(status));
export const okPayload = (affected: number, insertId: number, status: number, warnings = 0, header = 0x00): Buffer =>
  cat([header], lenenc(affected), lenenc(insertId), u16(status), u16(warnings));

export interface ColumnSpec {
  readonly name: string;
  readonly type: number;
  readonly schema?: string;
  readonly table?: string;
  readonly charset?: number;
  readonly length?: number;
  readonly flags?: number;
  readonly decimals?: number;
}

/** Column Definition 41; `extended` adds MariaDB's (empty) extended type info block. */
export function columnDef(spec: ColumnSpec, extended = false): Buffer {
  return cat(
    lenStr('def'), lenStr(spec.schema ?? ''), lenStr(spec.table ?? ''), lenStr(spec.table ?? ''),
    lenStr(spec.name), lenStr(spec.name), extended ? [0] : [], [0x0c], u16(spec.charset ?? 63),
    u32(spec.length ?? 11), [spec.type], u16(spec.flags ?? 0), [spec.decimals ?? 0], [0, 0],
  );
}

/** A text-protocol row: lenenc strings, 0xfb for NULL. */
export const textRow = (...values: (string | null)[]): Buffer =>
  cat(...values.map((value) => (value === null ? Buffer.from([0xfb]) : lenStr(value))));

/** Real bytes (payloads, no frame headers) from MariaDB 10.11.19 and its clients. */
export const captured = {
  /** MariaDB greeting: connection 12, scramble "G0YQjBI*" + "3an'r,\"bI)0R", caps 0x81fff7fe, ext caps 0x1d. */
  mariadbHandshake: hex('0a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531000c000000473059516a42492a00fef72d02'
    + '00ff81150000000000001d00000033616e27722c226249293052006d7973716c5f6e61746976655f70617373776f726400'),
  /** `mariadb -uroot test` (no password) to that server: lenenc auth, db, plugin, 127 bytes of connect attributes. */
  cliHandshakeResponse: hex('8ca2bf000000100021000000000000000000000000000000000000001d000000726f6f74000074657374006d7973716c5f6e'
    + '61746976655f70617373776f7264007f035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d617269616462045f706964053331'
    + '3932310f5f636c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d067838365f36340c70726f6772616d5f6e616d650'
    + '56d7973716c0c5f7365727665725f686f7374093132372e302e302e31'),
  /** mysql2 `{user:'root', database:'test', multipleStatements:true}` to the same server (ext caps 0x08). */
  mysql2HandshakeResponse: hex('cef3bb0800000000e00000000000000000000000000000000000000008000000726f6f74000074657374006d7973716c5f'
    + '6e61746976655f70617373776f726400310c5f636c69656e745f6e616d650c4e6f64652d4d7953514c2d320f5f636c69656e745f76657273'
    + '696f6e06332e32342e36'),
  /** Replies to scramble "12345678ABCDEFGHIJKL" for password "s3cret!": identical from libmariadb and mysql2. */
  fixedScramble: Buffer.from('12345678ABCDEFGHIJKL', 'latin1'),
  nativeReplyS3cret: hex('687018514d09661f09ed196c78f482fa2b1e19d1'),
  cachingSha2ReplyS3cret: hex('a45613d925739d6feae18d496d755168708f96bfaf5ec40b3caca2469558867c'),
  /** mysql2 as user grant_user, db db1, password s3cret!, to a server offering mysql_native_password. */
  mysql2NativeResponse: hex('cff3ba0800000000e000000000000000000000000000000000000000000000006772616e745f7573657200146870185'
    + '14d09661f09ed196c78f482fa2b1e19d1646231006d7973716c5f6e61746976655f70617373776f726400310c5f636c69656e745f6e616d650c'
    + '4e6f64652d4d7953514c2d320f5f636c69656e745f76657273696f6e06332e32342e36'),
  /** A real native exchange: greeting scramble, then `MYSQL_PWD=wrong mariadb -uroot` replied, MariaDB said 1045. */
  wrongPasswordScramble: Buffer.from('3b6a2679557b2d6a503245487742227e775d4b3d', 'hex'),
  wrongPasswordReply: hex('5114ae1d23ce21c005907e11d20e7ab2adf7b583'),
  accessDenied: hex('ff15042332383030304163636573732064656e69656420666f7220757365722027726f6f742740273132372e302e302e31'
    + '2720287573696e672070617373776f72643a2059455329'),
  /** MariaDB switching a `--default-auth=caching_sha2_password` client to native, with the greeting's scramble. */
  authSwitchGreeting: hex('0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310012000000603d4f55407c724800fef72d'
    + '0200ff81150000000000001d0000004d2e3b7d2641576f4b664256006d7973716c5f6e61746976655f70617373776f726400'),
  authSwitchRequest: hex('fe6d7973716c5f6e61746976655f70617373776f726400603d4f55407c72484d2e3b7d2641576f4b66425600'),
  unknownCommand: hex('ff1704233038533031556e6b6e6f776e20636f6d6d616e64'),
  /** OK after login / COM_INIT_DB with CLIENT_SESSION_TRACK: schema "test" in the session-state block. */
  okSessionSchema: hex('00000002400000000701050474657374'),
  okInsertInfo: hex('00020102000000265265636f7264733a203220204475706c6963617465733a203020205761726e696e67733a2030'),
  /** mysql2 `execute('select ?,…', [42, 1.5, 'héllo', null, Date(2024-01-02 03:04:05.678), Buffer[1,2,255],
   *  9007199254740993n, true, {a:1}])`: DOUBLE, DOUBLE, VAR_STRING, NULL, DATETIME, BLOB, VAR_STRING, TINY, VAR_STRING. */
  mysql2Execute: hex('1701000000000100000008000105000500fd0006000c00fc00fd000100fd000000000000004540000000000000f83f0668c3'
    + 'a96c6c6f0be807010203040570580a00030102ff103930303731393932353437343039393301077b2261223a317d'),
  /** The same statement executed again by mysql2 with one DOUBLE 0 (statement 2). */
  mysql2ExecuteSecond: hex('17020000000001000000000105000000000000000000'),
  /** The binary row MariaDB returned for mysql2Execute (NULL bitmap offset 2: column 3 NULL). */
  binaryRow: hex('0020000000000000004540000000000000f83f0668c3a96c6c6f0be807010203040570580a00030102ff10393030373139393235'
    + '3437343039393301077b2261223a317d'),
  localInfileRequest: hex('fb2f6574632f686f73746e616d65'),
};

/**
 * Server responses as packet lists (payload hex). `cli*`: the mariadb CLI (EOF packets, extended + cached metadata);
 * `mysql2*`: mysql2 (EOF packets, extended metadata); `deprecateEof*`: a raw client with CLIENT_DEPRECATE_EOF and no
 * MariaDB extensions.
 */
export const capturedResponses = {
  cliSelect3: ['0301', '03646566000000016100000c3f0001000000038100000000', '03646566000000016200000c210003000000fd0100270000',
    '03646566000000016300000c3f0000000000068000000000', 'fe00000200', '01310178fb', 'fe00000200'],
  cliNow6: ['0101', '03646566000000066e6f7728362900000c3f001a0000000c8100060000', 'fe00000200',
    '1a323032362d31322d30312031383a35333a33332e343631313935', 'fe00000200'],
  mysql2Multi: ['01', '03646566000000016100000c3f0001000000038100000000', 'fe00000a00', '0131', 'fe00000a00', '0000000a000000',
    '02', '03646566000000016200000c3f0001000000038100000000', '03646566000000016300000c3f0001000000038100000000', 'fe00000200',
    '01320133', 'fe00000200'],
  mysql2MultiError: ['01', '03646566000000013100000c3f0001000000038100000000', 'fe00000a00', '0131', 'fe00000a00',
    'ff7a042334325330325461626c652027746573742e6e6f70652720646f65736e2774206578697374'],
  deprecateEofMulti: ['01', '036465660000000161000c3f0001000000038100000000', '0131', 'fe00000a000000', '0000000a000000', '01',
    '036465660000000162000c3f0001000000038100000000', '0132', 'fe000002000000'],
  deprecateEofFieldList: ['036465660474657374017401740269640269640c3f000b000000030000000000fb',
    '03646566047465737401740174017601760c2d0028000000fd0000000000fb', 'fe000002000000'],
  deprecateEofPrepare: ['000100000002000100000000', '03646566000000013f000c3f0000000000068000000000',
    '036465660474657374017401740269640269640c3f000b000000030000000000', '03646566047465737401740174017601760c2d0028000000fd0000000000'],
  deprecateEofCursorExecute: ['02', '036465660474657374017401740269640269640c3f000b000000030000000000',
    '03646566047465737401740174017601760c2d0028000000fd0000000000', 'fe000062000000'],
  deprecateEofFetch: ['0000010000000161', '0000020000000162', 'fe000042000000'],
  deprecateEofFetchLast: ['0000030000000163', 'fe000082000000'],
  deprecateEofSetOption: ['fe000002000000'],
  statistics: ['557074696d653a20323338372020546872656164733a203220205175657374696f6e733a2035352020536c6f7720717565726965733a20'
    + '3020204f70656e733a20323220204f70656e207461626c65733a20313320205175657269657320706572207365636f6e64206176673a20302e303233'],
};
