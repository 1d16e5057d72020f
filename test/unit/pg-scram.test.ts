import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mockScramSecret, SCRAM_SHA_256_PLUS, type ScramSecret, ScramServer } from '../../protocols/postgres/scram-server.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';

// RFC 7677 §3 test vector.
const RFC = {
  password: 'pencil',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonceSuffix: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
};

/** RFC 5802 §3 key derivation, done here with node:crypto rather than by the code under test. */
function secretFor(password: string, salt: Buffer, iterations = 4096): ScramSecret {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    iterations, salt,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** A test-side SCRAM client: the client-final-message for a password, given the messages so far. */
function clientFinal(password: string, clientFirst: string, serverFirst: string, binding = 'biws'): string {
  const attrs = Object.fromEntries(serverFirst.split(',').map((part) => [part[0], part.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs['s'] ?? '', 'base64'), Number(attrs['i']), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=${binding},r=${attrs['r'] ?? ''}`;
  const bare = clientFirst.slice(clientFirst.indexOf(',', clientFirst.indexOf(',') + 1) + 1);
  const signature = createHmac('sha256', storedKey).update(`${bare},${serverFirst},${withoutProof}`).digest();
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] as number)));
  return `${withoutProof},p=${proof.toString('base64')}`;
}

const rfcSecret = secretFor(RFC.password, Buffer.from(RFC.salt, 'base64'));

describe('SCRAM-SHA-256 server: RFC 7677 test vector', () => {
  it('produces the RFC server-first and server-final messages', () => {
    const server = new ScramServer();
    expect(server.state).toBe('initial');
    expect(server.start(Buffer.from(RFC.clientFirst), RFC.serverNonceSuffix, rfcSecret)).toBe(RFC.serverFirst);
    expect(server.state).toBe('server_first_sent');
    expect(server.finish(Buffer.from(RFC.clientFinal))).toEqual({ ok: true, serverFinalMessage: RFC.serverFinal });
    expect(server.state).toBe('succeeded');
  });

  it('the test-side client reproduces the RFC proof (so later tests exercise real proofs)', () => {
    expect(clientFinal(RFC.password, RFC.clientFirst, RFC.serverFirst)).toBe(RFC.clientFinal);
  });
});

describe('SCRAM-SHA-256 server: failures', () => {
  const started = (secret: ScramSecret = rfcSecret, clientFirst = RFC.clientFirst): { server: ScramServer; serverFirst: string } => {
    const server = new ScramServer();
    return { server, serverFirst: server.start(clientFirst, RFC.serverNonceSuffix, secret) };
  };

  it('a flipped proof bit fails as invalid_proof', () => {
    const { server } = started();
    const proof = Buffer.from(RFC.clientFinal.split(',p=')[1] ?? '', 'base64');
    proof[0] = (proof[0] as number) ^ 1;
    expect(server.finish(`${RFC.clientFinal.split(',p=')[0] ?? ''},p=${proof.toString('base64')}`)).toEqual({ ok: false, reason: 'invalid_proof' });
    expect(server.state).toBe('failed');
  });

  it('a wrong password fails, and an unknown user with the mock secret fails identically', () => {
    const wrong = started(rfcSecret, 'n,,n=,r=abc');
    const wrongResult = wrong.server.finish(clientFinal('wrong', 'n,,n=,r=abc', wrong.serverFirst));
    const perProcess = Buffer.from('per-process-secret-0123456789abcdef');
    const mock = started(mockScramSecret('g_unknown', perProcess), 'n,,n=,r=abc');
    const mockResult = mock.server.finish(clientFinal('pencil', 'n,,n=,r=abc', mock.serverFirst));
    expect(mockResult).toEqual({ ok: false, reason: 'invalid_proof' });
    expect(mockResult).toEqual(wrongResult);
    // Same shape of server-first: nonce, 16-byte salt, the same iteration count.
    const shape = (text: string): string => text.replace(/[A-Za-z0-9+/]/g, 'x');
    expect(shape(mock.serverFirst)).toBe(shape(wrong.serverFirst));
  });

  it('the mock secret is deterministic per user and per process secret', () => {
    const a = Buffer.from('process-a');
    expect(mockScramSecret('g_x', a)).toEqual(mockScramSecret('g_x', a));
    expect(mockScramSecret('g_x', a).salt).not.toEqual(mockScramSecret('g_y', a).salt);
    expect(mockScramSecret('g_x', a).salt).not.toEqual(mockScramSecret('g_x', Buffer.from('process-b')).salt);
    expect(mockScramSecret('g_x', a).salt.length).toBe(16);
    expect(mockScramSecret('g_x', a, 8192).iterations).toBe(8192);
  });

  it('a nonce the server did not issue fails as nonce_mismatch', () => {
    const { server } = started();
    expect(server.finish(RFC.clientFinal.replace('hNlF$k0', 'hNlF$k1'))).toEqual({ ok: false, reason: 'nonce_mismatch' });
  });

  it('a channel-binding value other than the gs2 header fails', () => {
    const { server, serverFirst } = started();
    expect(server.finish(clientFinal(RFC.password, RFC.clientFirst, serverFirst, 'eSws'))).toEqual({ ok: false, reason: 'channel_binding_mismatch' });
  });

  it("accepts 'y' (client could bind, thinks we cannot) when PLUS was not offered", () => {
    const first = 'y,,n=,r=nonce1';
    const server = new ScramServer();
    const serverFirst = server.start(first, 'srv', rfcSecret);
    expect(server.finish(clientFinal(RFC.password, first, serverFirst, 'eSws')).ok).toBe(true);
  });

  it('rejects calls out of order', () => {
    expect(() => new ScramServer().finish(RFC.clientFinal)).toThrow(WireFormatError);
    const { server } = started();
    expect(() => server.start(RFC.clientFirst, 'x', rfcSecret)).toThrow(WireFormatError);
    server.finish(RFC.clientFinal);
    expect(() => server.finish(RFC.clientFinal)).toThrow(/state succeeded/);
  });

  it.each([
    ['x,,n=,r=a', /channel-binding flag/],
    ['n,a=admin,n=,r=a', /authorization identity/],
    ['n,,m=ext,n=,r=a', /extension/],
    ['n,,n=', /nonce/],
    ['n,,n=,r=', /nonce/],
    ['n,,n=,r=a,b', /attribute/],
    ['p=tls-unique,,n=,r=a', /channel-binding type/],
    ['p=tls-server-end-point,,n=,r=a', /not selected|PLUS/],
  ])('malformed client-first %s', (first, message) => {
    expect(() => new ScramServer().start(first, 'srv', rfcSecret)).toThrow(message);
  });

  it.each([
    ['c=biws,r=x', /no proof/],
    ['c=biws,r=x,p=!!!!', /base64/],
    [`c=biws,r=x,p=${Buffer.alloc(31).toString('base64')}`, /31 bytes/],
    [`r=x,c=biws,p=${Buffer.alloc(32).toString('base64')}`, /channel binding/],
    [`c=biws,p=${Buffer.alloc(32).toString('base64')}`, /nonce/],
  ])('malformed client-final %s', (final, message) => {
    const { server } = started();
    expect(() => server.finish(final)).toThrow(message);
  });

  it('refuses a server nonce suffix with a comma (caller bug)', () => {
    expect(() => new ScramServer().start(RFC.clientFirst, 'a,b', rfcSecret)).toThrow(RangeError);
  });
});

describe('SCRAM-SHA-256-PLUS (channel binding offered)', () => {
  const endPoint = createHash('sha256').update('certificate DER').digest();
  const plus = (): ScramServer => new ScramServer({ channelBinding: { type: 'tls-server-end-point', data: endPoint } });

  it('offers PLUS first', () => {
    expect(plus().mechanisms).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    expect(new ScramServer().mechanisms).toEqual(['SCRAM-SHA-256']);
  });

  it('verifies the binding data', () => {
    const first = 'p=tls-server-end-point,,n=,r=cn';
    const binding = Buffer.concat([Buffer.from('p=tls-server-end-point,,'), endPoint]).toString('base64');
    const server = plus();
    const serverFirst = server.start(first, 'sn', rfcSecret, SCRAM_SHA_256_PLUS);
    expect(server.finish(clientFinal(RFC.password, first, serverFirst, binding)).ok).toBe(true);

    const other = plus();
    const otherFirst = other.start(first, 'sn', rfcSecret, SCRAM_SHA_256_PLUS);
    const wrongBinding = Buffer.concat([Buffer.from('p=tls-server-end-point,,'), Buffer.alloc(32)]).toString('base64');
    expect(other.finish(clientFinal(RFC.password, first, otherFirst, wrongBinding))).toEqual({ ok: false, reason: 'channel_binding_mismatch' });
  });

  it("refuses a downgrade ('y' while PLUS was offered) and mechanism/flag disagreements", () => {
    expect(() => plus().start('y,,n=,r=a', 's', rfcSecret)).toThrow(/this server does/);
    expect(() => plus().start('n,,n=,r=a', 's', rfcSecret, SCRAM_SHA_256_PLUS)).toThrow(/did not ask/);
    expect(() => new ScramServer().start('n,,n=,r=a', 's', rfcSecret, SCRAM_SHA_256_PLUS)).toThrow(/not offered/);
    expect(() => plus().start('n,,n=,r=a', 's', rfcSecret, 'SCRAM-SHA-1')).toThrow(/not offered/);
  });
});
