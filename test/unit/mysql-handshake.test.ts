import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import {
  decodeClientHandshake, encodeHandshakeResponse41, encodeSslRequest, type HandshakeResponse41,
} from '../../protocols/mysql/client-handshake-response.js';
import { CapabilityFlag as C } from '../../protocols/mysql/constants.js';
import {
  decodeHandshakeV10, decodeServerGreeting, encodeHandshakeV10, isScrambleByte, scrambleFromRandomBytes,
} from '../../protocols/mysql/server-handshake.js';
import { captured, cat, handshakeV10, hex, lenStr, nul, u32 } from '../support/mysql-frames.js';

const mariadbScramble = Buffer.from('G0YQjBI*3an\'r,"bI)0R', 'latin1');

describe('HandshakeV10 decode (upstream leg)', () => {
  it('decodes a real MariaDB greeting', () => {
    expect(decodeHandshakeV10(captured.mariadbHandshake)).toEqual({
      type: 'handshake_v10', serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1', connectionId: 12, scramble: mariadbScramble,
      capabilities: 0x81fff7fe, mariadbCapabilities: 0x1d, characterSet: 45, statusFlags: 2, authPluginName: 'mysql_native_password',
    });
  });

  it('reads a MySQL greeting (CLIENT_MYSQL set): the last reserved bytes are not MariaDB capabilities', () => {
    const scramble = Buffer.from('abcdefghijklmnopqrst');
    const bytes = handshakeV10({ version: '8.4.0', connectionId: 9, scramble, capabilities: 0xdfffffff, charset: 255, status: 2,
      plugin: 'caching_sha2_password', mariadbCapabilities: 0 });
    expect(decodeHandshakeV10(bytes)).toMatchObject({ capabilities: 0xdfffffff, mariadbCapabilities: 0, scramble, characterSet: 255 });
  });

  it('accepts the plugin name without its NUL (MySQL 5.5.7–5.5.9), refuses trailing bytes after it', () => {
    const withoutNul = captured.mariadbHandshake.subarray(0, captured.mariadbHandshake.length - 1);
    expect(decodeHandshakeV10(withoutNul).authPluginName).toBe('mysql_native_password');
    expect(() => decodeHandshakeV10(cat(captured.mariadbHandshake, 'x'))).toThrow(WireFormatError);
  });

  it('fails on every truncation before the plugin name, and on a wrong protocol version', () => {
    const pluginStart = captured.mariadbHandshake.length - 'mysql_native_password'.length - 1;
    for (let length = 0; length < pluginStart; length++) {
      expect(() => decodeHandshakeV10(captured.mariadbHandshake.subarray(0, length)), `length ${length}`).toThrow(WireFormatError);
    }
    expect(() => decodeHandshakeV10(cat([9], captured.mariadbHandshake.subarray(1)))).toThrow(/protocol version 9/);
  });

  it('reports an early ERR (no SQLSTATE yet) as the greeting', () => {
    const refusal = cat([0xff], [0x6a, 0x04], "Host '10.0.0.9' is not allowed to connect to this MariaDB server");
    expect(decodeServerGreeting(refusal)).toEqual({
      type: 'err', errno: 1130, sqlState: null, message: "Host '10.0.0.9' is not allowed to connect to this MariaDB server",
    });
  });
});

describe('HandshakeV10 encode (client leg)', () => {
  it('reproduces the real MariaDB greeting byte for byte from its fields', () => {
    expect(encodeHandshakeV10({
      serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1', connectionId: 12, scramble: mariadbScramble, capabilities: 0x81fff7fe,
      mariadbCapabilities: 0x1d, characterSet: 45, statusFlags: 2, authPluginName: 'mysql_native_password',
    })).toEqual(captured.mariadbHandshake);
  });

  it('matches the builder for a caching_sha2 greeting with CLIENT_MYSQL set', () => {
    const scramble = scrambleFromRandomBytes(Buffer.from('000102030405060708090a0b0c0d0e0f24a48090', 'hex'));
    const fields = { serverVersion: '8.0.36-jitgate', connectionId: 0x01020304, scramble, capabilities: 0x81fff7ff,
      characterSet: 255, statusFlags: 2, authPluginName: 'caching_sha2_password' };
    expect(encodeHandshakeV10(fields)).toEqual(handshakeV10({ version: '8.0.36-jitgate', connectionId: 0x01020304, scramble,
      capabilities: 0x81fff7ff, charset: 255, status: 2, plugin: 'caching_sha2_password' }));
    expect(() => encodeHandshakeV10({ ...fields, mariadbCapabilities: 4 })).toThrow(/CLIENT_MYSQL/);
  });

  it('allows exactly the scramble alphabet: 0x01..0x7f without "$"', () => {
    const allowed = [...Array(256).keys()].filter(isScrambleByte);
    expect(allowed).toHaveLength(126);
    expect(allowed).not.toContain(0x00);
    expect(allowed).not.toContain(0x24);
    expect(allowed).not.toContain(0x80);
    for (let byte = 0; byte < 256; byte++) {
      const mapped = scrambleFromRandomBytes(Buffer.alloc(20, byte));
      expect(mapped.every(isScrambleByte), `random byte ${byte}`).toBe(true);
    }
    const base = { serverVersion: 'x', connectionId: 1, capabilities: C.CLIENT_PROTOCOL_41, characterSet: 45, statusFlags: 2, authPluginName: '' };
    expect(() => encodeHandshakeV10({ ...base, scramble: Buffer.alloc(20, 0x24) })).toThrow(/outside/);
    expect(() => encodeHandshakeV10({ ...base, scramble: Buffer.alloc(19, 0x41) })).toThrow(/20 bytes/);
  });
});

describe('HandshakeResponse41 / SSLRequest decode (client leg)', () => {
  it('decodes the mariadb CLI: lenenc empty auth, database, plugin, connect attributes, MariaDB capabilities', () => {
    const decoded = decodeClientHandshake(captured.cliHandshakeResponse) as HandshakeResponse41;
    expect(decoded).toMatchObject({
      type: 'handshake_response_41', capabilities: 0x00bfa28c, maxPacketSize: 0x100000, characterSet: 33,
      mariadbCapabilities: 0x1d, username: 'root', database: 'test', authPluginName: 'mysql_native_password', zstdCompressionLevel: null,
    });
    expect(decoded.authResponse).toEqual(Buffer.alloc(0));
    expect(Object.fromEntries(decoded.connectAttributes ?? [])).toEqual({
      _os: 'Linux', _client_name: 'libmariadb', _pid: '31921', _client_version: '3.3.20', _platform: 'x86_64',
      program_name: 'mysql', _server_host: '127.0.0.1',
    });
  });

  it('decodes mysql2, with and without MariaDB extensions', () => {
    expect(decodeClientHandshake(captured.mysql2HandshakeResponse)).toMatchObject({
      capabilities: 0x08bbf3ce, characterSet: 224, mariadbCapabilities: 0x08, username: 'root', database: 'test',
    });
    const decoded = decodeClientHandshake(captured.mysql2NativeResponse) as HandshakeResponse41;
    expect(decoded).toMatchObject({ capabilities: 0x08baf3cf, mariadbCapabilities: 0, username: 'grant_user', database: 'db1' });
    expect(decoded.authResponse).toEqual(captured.nativeReplyS3cret);
    expect(decoded.connectAttributes?.get('_client_name')).toBe('Node-MySQL-2');
  });

  it('recognises the 32-byte SSLRequest as its own message', () => {
    const caps = C.CLIENT_PROTOCOL_41 | C.CLIENT_SSL | C.CLIENT_SECURE_CONNECTION;
    const bytes = cat(u32(caps), u32(0x1000000), [45], Buffer.alloc(19), u32(0x1d));
    expect(decodeClientHandshake(bytes)).toEqual({ type: 'ssl_request', capabilities: caps, mariadbCapabilities: 0x1d,
      maxPacketSize: 0x1000000, characterSet: 45 });
    expect(encodeSslRequest({ capabilities: C.CLIENT_PROTOCOL_41 | C.CLIENT_SECURE_CONNECTION, mariadbCapabilities: 0x1d,
      maxPacketSize: 0x1000000, characterSet: 45 })).toEqual(bytes);
    expect(() => decodeClientHandshake(cat(u32(C.CLIENT_PROTOCOL_41), Buffer.alloc(28)))).toThrow(/no username/);
  });

  it('reads 1-byte-length and NUL-terminated auth responses; optional fields absent at the end', () => {
    const secure = C.CLIENT_PROTOCOL_41 | C.CLIENT_SECURE_CONNECTION | C.CLIENT_CONNECT_WITH_DB | C.CLIENT_PLUGIN_AUTH | C.CLIENT_LONG_PASSWORD;
    const prefix = (caps: number): Buffer => cat(u32(caps), u32(0), [8], Buffer.alloc(23));
    expect(decodeClientHandshake(cat(prefix(secure), nul('u'), [3, 1, 2, 3]))).toMatchObject({
      username: 'u', authResponse: hex('010203'), database: null, authPluginName: null, connectAttributes: null,
    });
    const old = C.CLIENT_PROTOCOL_41 | C.CLIENT_LONG_PASSWORD;
    expect(decodeClientHandshake(cat(prefix(old), nul('u'), nul('pw')))).toMatchObject({ authResponse: Buffer.from('pw') });
  });

  it('refuses pre-4.1 responses, bad attribute framing and trailing bytes', () => {
    const lenencCaps = C.CLIENT_PROTOCOL_41 | C.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | C.CLIENT_CONNECT_ATTRS | C.CLIENT_LONG_PASSWORD;
    const prefix = cat(u32(lenencCaps), u32(0), [8], Buffer.alloc(23), nul('u'), [0]);
    expect(() => decodeClientHandshake(cat(u32(0x8000), Buffer.alloc(40)))).toThrow(/HandshakeResponse320/);
    expect(() => decodeClientHandshake(cat(prefix, [5], lenStr('key')))).toThrow(WireFormatError);
    expect(() => decodeClientHandshake(cat(prefix, [4], lenStr('k'), lenStr('v'), 'z'))).toThrow(/trailing/);
    expect(decodeClientHandshake(cat(prefix, [4], lenStr('k'), lenStr('v')))).toMatchObject({ connectAttributes: new Map([['k', 'v']]) });
  });

  it('fails on every truncation of the real responses without throwing anything but WireFormatError', () => {
    for (const full of [captured.cliHandshakeResponse, captured.mysql2HandshakeResponse]) {
      for (let length = 0; length < full.length; length++) {
        try { decodeClientHandshake(full.subarray(0, length)); } catch (error) { expect(error).toBeInstanceOf(WireFormatError); }
      }
    }
  });
});

describe('HandshakeResponse41 encode (upstream leg)', () => {
  it('reproduces mysql2 and the mariadb CLI byte for byte from their fields', () => {
    for (const real of [captured.mysql2NativeResponse, captured.cliHandshakeResponse, captured.mysql2HandshakeResponse]) {
      const d = decodeClientHandshake(real) as HandshakeResponse41;
      expect(encodeHandshakeResponse41({
        capabilities: d.capabilities, mariadbCapabilities: d.mariadbCapabilities, maxPacketSize: d.maxPacketSize,
        characterSet: d.characterSet, username: d.username, authResponse: d.authResponse, database: d.database ?? '',
        authPluginName: d.authPluginName ?? '', connectAttributes: d.connectAttributes ?? new Map(),
      })).toEqual(real);
    }
  });

  it('writes a 1-byte length without PLUGIN_AUTH_LENENC_CLIENT_DATA and refuses what cannot be written', () => {
    const caps = C.CLIENT_PROTOCOL_41 | C.CLIENT_SECURE_CONNECTION | C.CLIENT_PLUGIN_AUTH | C.CLIENT_LONG_PASSWORD;
    const fields = { capabilities: caps, maxPacketSize: 0, characterSet: 45, username: 'jg_ro', authResponse: hex('aabb'),
      authPluginName: 'mysql_native_password' };
    expect(encodeHandshakeResponse41(fields)).toEqual(cat(u32(caps), u32(0), [45], Buffer.alloc(23), nul('jg_ro'), [2, 0xaa, 0xbb],
      nul('mysql_native_password')));
    expect(() => encodeHandshakeResponse41({ ...fields, authResponse: Buffer.alloc(256) })).toThrow(/LENENC/);
    expect(() => encodeHandshakeResponse41({ ...fields, capabilities: C.CLIENT_SECURE_CONNECTION })).toThrow(/PROTOCOL_41/);
  });
});
