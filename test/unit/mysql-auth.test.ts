import { constants, createHash, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import {
  CachingSha2Marker, decodeAuthMoreData, decodeCachingSha2ClientReply, decodeCachingSha2ServerSignal, decodeCleartextPassword,
  encodeCleartextPassword, encodeFastAuthSuccess, encodePerformFullAuthentication, encodePublicKey, encodeRequestPublicKey,
} from '../../protocols/mysql/auth-more-data.js';
import {
  cachingSha2Scramble, cachingSha2Verifier, encryptPasswordWithPublicKey, nativePasswordScramble, nativePasswordVerifier,
  verifyCachingSha2Cleartext, verifyCachingSha2Fast, verifyNativePassword,
} from '../../protocols/mysql/auth-plugins.js';
import {
  decodeAuthSwitchRequest, encodeAuthSwitchRequestWithScramble, scrambleFromPluginData,
} from '../../protocols/mysql/auth-switch.js';
import { encodeHandshakeResponse41 } from '../../protocols/mysql/client-handshake-response.js';
import { CapabilityFlag as C } from '../../protocols/mysql/constants.js';
import { encodePacket, PacketFramer } from '../../protocols/mysql/packet-framer.js';
import { ResultReader, type ResultEvent } from '../../protocols/mysql/result-reader.js';
import { decodeServerAuthReply, type ServerAuthReply } from '../../protocols/mysql/server-auth-reply.js';
import { encodeErrPacket } from '../../protocols/mysql/server-results.js';
import { mysqlError } from '../../protocols/mysql/server-errors.js';
import { decodeHandshakeV10 } from '../../protocols/mysql/server-handshake.js';
import { mysqlAdminUrl } from '../support/databases.js';
import { mysqlString, mysqlTargetFromUrl, runMysql } from '../support/mysql-cli.js';
import { captured, cat, hex, nul } from '../support/mysql-frames.js';

const sha1 = (...parts: Buffer[]): Buffer => createHash('sha1').update(Buffer.concat(parts)).digest();
const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((byte, i) => byte ^ (b[i % b.length] as number)));

describe('scramble vectors', () => {
  it('mysql_native_password matches replies from libmariadb and mysql2, and a real MariaDB login', () => {
    expect(nativePasswordScramble('s3cret!', captured.fixedScramble)).toEqual(captured.nativeReplyS3cret);
    expect(nativePasswordScramble('wrong', captured.wrongPasswordScramble)).toEqual(captured.wrongPasswordReply);
  });

  it('caching_sha2_password matches replies from libmariadb and mysql2', () => {
    expect(cachingSha2Scramble('s3cret!', captured.fixedScramble)).toEqual(captured.cachingSha2ReplyS3cret);
  });

  it('both follow the documented formulas (computed here with node:crypto)', () => {
    const scramble = Buffer.from('Zx9$!abcdefghijklmno');
    const pw = Buffer.from('pässwörd', 'utf8');
    expect(nativePasswordScramble(pw, scramble)).toEqual(xor(sha1(pw), sha1(scramble, sha1(sha1(pw)))));
    expect(cachingSha2Scramble(pw, scramble)).toEqual(xor(sha256(pw), sha256(sha256(sha256(pw)), scramble)));
    expect(nativePasswordVerifier('t')).toBe(sha1(sha1(Buffer.from('t'))).toString('hex'));
    expect(cachingSha2Verifier('t')).toBe(sha256(sha256(Buffer.from('t'))).toString('hex'));
  });

  it('an empty password gives an empty reply, as clients send', () => {
    expect(nativePasswordScramble('', captured.fixedScramble)).toHaveLength(0);
    expect(cachingSha2Scramble('', captured.fixedScramble)).toHaveLength(0);
  });
});

describe('server-side verification from stored verifiers', () => {
  const stored1 = sha1(sha1(Buffer.from('s3cret!'))).toString('hex');
  const stored256 = sha256(sha256(Buffer.from('s3cret!'))).toString('hex');

  it('native: accepts the real client reply, refuses others and any length but 20', () => {
    expect(verifyNativePassword(captured.nativeReplyS3cret, captured.fixedScramble, stored1)).toBe(true);
    expect(verifyNativePassword(captured.nativeReplyS3cret, captured.fixedScramble, `*${stored1.toUpperCase()}`)).toBe(true);
    expect(verifyNativePassword(nativePasswordScramble('other', captured.fixedScramble), captured.fixedScramble, stored1)).toBe(false);
    expect(verifyNativePassword(captured.nativeReplyS3cret, Buffer.from('12345678ABCDEFGHIJKM'), stored1)).toBe(false);
    for (const reply of [Buffer.alloc(0), captured.nativeReplyS3cret.subarray(0, 19), cat(captured.nativeReplyS3cret, [0])]) {
      expect(verifyNativePassword(reply, captured.fixedScramble, stored1)).toBe(false);
    }
    expect(verifyNativePassword(captured.nativeReplyS3cret, captured.fixedScramble, 'not hex')).toBe(false);
  });

  it('caching_sha2 fast auth: accepts the real client reply, refuses others and any length but 32', () => {
    expect(verifyCachingSha2Fast(captured.cachingSha2ReplyS3cret, captured.fixedScramble, stored256)).toBe(true);
    expect(verifyCachingSha2Fast(cachingSha2Scramble('other', captured.fixedScramble), captured.fixedScramble, stored256)).toBe(false);
    expect(verifyCachingSha2Fast(captured.cachingSha2ReplyS3cret.subarray(0, 31), captured.fixedScramble, stored256)).toBe(false);
    expect(verifyCachingSha2Fast(captured.nativeReplyS3cret, captured.fixedScramble, stored256)).toBe(false);
    expect(verifyCachingSha2Fast(captured.cachingSha2ReplyS3cret, captured.fixedScramble, stored1)).toBe(false);
  });

  it('caching_sha2 full auth: cleartext over TLS, and RSA-OAEP of (password + NUL) XOR scramble', () => {
    const cleartext = decodeCleartextPassword(encodeCleartextPassword('s3cret!'));
    expect(verifyCachingSha2Cleartext(cleartext, stored256)).toBe(true);
    expect(verifyCachingSha2Cleartext(Buffer.from('s3cret'), stored256)).toBe(false);
    expect(() => decodeCleartextPassword(Buffer.from('no nul'))).toThrow(WireFormatError);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const encrypted = encryptPasswordWithPublicKey('s3cret!', captured.fixedScramble, pem);
    expect(encrypted).toHaveLength(256);
    const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, encrypted);
    expect(xor(plain, captured.fixedScramble)).toEqual(nul('s3cret!'));
    expect(encryptPasswordWithPublicKey('s3cret!', captured.fixedScramble, pem)).not.toEqual(encrypted); // OAEP is randomised
  });
});

describe('AuthSwitchRequest and AuthMoreData', () => {
  it('decodes the real switch to native and re-encodes it byte for byte', () => {
    const switched = decodeAuthSwitchRequest(captured.authSwitchRequest);
    expect(switched.pluginName).toBe('mysql_native_password');
    const greetingScramble = decodeHandshakeV10(captured.authSwitchGreeting).scramble;
    expect(scrambleFromPluginData(switched.pluginData)).toEqual(greetingScramble);
    expect(encodeAuthSwitchRequestWithScramble('mysql_native_password', greetingScramble)).toEqual(captured.authSwitchRequest);
    expect(() => decodeAuthSwitchRequest(hex('fe'))).toThrow(/OldAuthSwitchRequest/);
  });

  it('speaks caching_sha2_password markers in both directions', () => {
    expect(encodeFastAuthSuccess()).toEqual(hex('01 03'));
    expect(encodePerformFullAuthentication()).toEqual(hex('01 04'));
    expect(encodeRequestPublicKey()).toEqual(hex('02'));
    expect(CachingSha2Marker).toEqual({ request_public_key: 2, fast_auth_success: 3, perform_full_authentication: 4 });
    const pem = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n';
    expect(encodePublicKey(pem)).toEqual(cat([1], pem));
    expect(decodeCachingSha2ServerSignal(decodeAuthMoreData(hex('01 03')).data)).toEqual({ type: 'fast_auth_success' });
    expect(decodeCachingSha2ServerSignal(decodeAuthMoreData(hex('01 04')).data)).toEqual({ type: 'perform_full_authentication' });
    expect(decodeCachingSha2ServerSignal(decodeAuthMoreData(encodePublicKey(pem)).data)).toEqual({ type: 'public_key', pem });
    expect(() => decodeCachingSha2ServerSignal(hex('05'))).toThrow(WireFormatError);
    expect(decodeCachingSha2ClientReply(hex('02'))).toEqual({ type: 'request_public_key' });
    expect(decodeCachingSha2ClientReply(nul('pw'))).toEqual({ type: 'password_data', data: nul('pw') });
  });

  it('dispatches what a server says during auth', () => {
    const caps = C.CLIENT_PROTOCOL_41 | C.CLIENT_SESSION_TRACK;
    expect(decodeServerAuthReply(captured.okSessionSchema, caps)).toMatchObject({ type: 'ok', statusFlags: 0x4002 });
    expect(decodeServerAuthReply(captured.accessDenied, caps)).toEqual({ type: 'err', errno: 1045, sqlState: '28000',
      message: "Access denied for user 'root'@'127.0.0.1' (using password: YES)" });
    expect(decodeServerAuthReply(captured.authSwitchRequest, caps)).toMatchObject({ type: 'auth_switch_request' });
    expect(decodeServerAuthReply(hex('01 04'), caps)).toEqual({ type: 'auth_more_data', data: hex('04') });
    expect(() => decodeServerAuthReply(hex(''), caps)).toThrow(WireFormatError);
    expect(() => decodeServerAuthReply(hex('07'), caps)).toThrow(/unexpected header 0x7/);
  });

  it('names access denied exactly as MariaDB does', () => {
    expect(encodeErrPacket(mysqlError.accessDenied('root', '127.0.0.1', true), C.CLIENT_PROTOCOL_41)).toEqual(captured.accessDenied);
  });
});

/** A minimal raw client built from the codecs: proves the handshake encoders and the native scramble against MariaDB. */
async function loginAndQuery(url: URL, user: string, password: string, sql: string): Promise<{ auth: ServerAuthReply; events: ResultEvent[] }> {
  const socket = connect(Number(url.port), url.hostname);
  const packets: Buffer[] = [];
  let wake: (() => void) | null = null;
  const framer = new PacketFramer((_seq, payload) => { packets.push(Buffer.from(payload)); wake?.(); }, { maxPayloadBytes: 1 << 24 });
  socket.on('data', (chunk) => framer.push(chunk));
  const next = async (): Promise<Buffer> => {
    while (packets.length === 0) await new Promise<void>((resolve, reject) => { wake = resolve; socket.once('error', reject); });
    return packets.shift() as Buffer;
  };
  try {
    const greeting = decodeHandshakeV10(await next());
    const capabilities = (greeting.capabilities & (C.CLIENT_PROTOCOL_41 | C.CLIENT_SECURE_CONNECTION | C.CLIENT_PLUGIN_AUTH
      | C.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | C.CLIENT_TRANSACTIONS | C.CLIENT_MULTI_STATEMENTS | C.CLIENT_MULTI_RESULTS
      | C.CLIENT_DEPRECATE_EOF | C.CLIENT_SESSION_TRACK)) | C.CLIENT_LONG_PASSWORD;
    socket.write(encodePacket(1, encodeHandshakeResponse41({ capabilities, maxPacketSize: 1 << 24, characterSet: 45,
      username: user, authResponse: nativePasswordScramble(password, greeting.scramble), authPluginName: 'mysql_native_password' })));
    const auth = decodeServerAuthReply(await next(), capabilities);
    if (auth.type !== 'ok') return { auth, events: [] };
    socket.write(encodePacket(0, cat([0x03], sql)));
    const reader = new ResultReader({ capabilities });
    reader.start('query');
    const events: ResultEvent[] = [];
    while (!reader.done) {
      const event = reader.push(await next());
      if (event !== null) events.push(event);
    }
    return { auth, events };
  } finally {
    socket.destroy();
  }
}

describe('against the run\'s MariaDB (raw socket, codecs only)', () => {
  it('logs in with mysql_native_password and reads a multi-statement result; a wrong password gets 1045', async () => {
    const url = new URL(mysqlAdminUrl());
    const admin = mysqlTargetFromUrl(url.toString());
    const user = `jg_codec_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    await runMysql(admin, `create user ${mysqlString(user)}@'127.0.0.1' identified by ${mysqlString(password)}`);
    try {
      const { auth, events } = await loginAndQuery(url, user, password, "select current_user(), 2; do 1; select 'x'");
      expect(auth.type).toBe('ok');
      expect(events.map((event) => event.type)).toEqual(['result_set', 'ok', 'result_set']);
      expect(events[0]).toMatchObject({ columnCount: 2, rowCount: 1 });
      const refused = await loginAndQuery(url, user, `${password}x`, 'select 1');
      expect(refused.auth).toMatchObject({ type: 'err', ...mysqlError.accessDenied(user, '127.0.0.1', true) });
    } finally {
      await runMysql(admin, `drop user if exists ${mysqlString(user)}@'127.0.0.1'`);
    }
  });
});
