// SCRAM-SHA-256 as a server (RFC 5802, RFC 7677; protocol docs §55.3.1) for the client leg. A small state machine:
//   initial --start(client-first)--> server_first_sent --finish(client-final)--> succeeded | failed
// Pure: the server nonce suffix is the caller's randomness and the secret the caller's lookup. Malformed messages
// (and channel-binding negotiation errors, as the server treats them) throw WireFormatError; a wrong proof is a
// result, { ok: false }, the same whether the secret was real or the mock one for an unknown user.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WireFormatError } from '../shared/wire-format-error.js';

/** What the server keeps instead of the password (pg_authid.rolpassword's SCRAM-SHA-256$… form, decoded). */
export interface ScramSecret {
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
export const SCRAM_SHA_256_PLUS = 'SCRAM-SHA-256-PLUS';
export type ScramMechanism = typeof SCRAM_SHA_256 | typeof SCRAM_SHA_256_PLUS;

export interface ScramServerOptions {
  /**
   * Present when SCRAM-SHA-256-PLUS was offered (client on TLS): the tls-server-end-point hash of our certificate.
   * Absent: no channel binding offered, so a client asking for it ('p=') is refused.
   */
  readonly channelBinding?: { readonly type: 'tls-server-end-point'; readonly data: Uint8Array };
}

export type ScramState = 'initial' | 'server_first_sent' | 'succeeded' | 'failed';

export type ScramFailureReason = 'invalid_proof' | 'nonce_mismatch' | 'channel_binding_mismatch';

export type ScramFinish =
  | { readonly ok: true; readonly serverFinalMessage: string }
  | { readonly ok: false; readonly reason: ScramFailureReason };

const malformed = (message: string): WireFormatError => new WireFormatError(`malformed SCRAM message: ${message}`);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 5802 `printable`: %x21-2B / %x2D-7E (no comma). */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const ATTRIBUTE = /^[A-Za-z]=/;

const toText = (message: Uint8Array | string): string =>
  typeof message === 'string' ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8');

const hmac = (key: Uint8Array, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();

/** Splits "a=1,b=2" into attribute/value pairs; every part must be `letter=`. */
function attributes(text: string, message: string): { name: string; value: string }[] {
  return text.split(',').map((part) => {
    if (!ATTRIBUTE.test(part)) throw malformed(`${message}: expected an attribute, got "${part.slice(0, 16)}"`);
    return { name: part[0] as string, value: part.slice(2) };
  });
}

interface ClientFirst {
  readonly gs2Header: string;
  readonly cbindFlag: 'n' | 'y' | 'p';
  readonly bare: string;
  readonly clientNonce: string;
}

function parseClientFirst(text: string): ClientFirst {
  let cbindFlag: ClientFirst['cbindFlag'];
  let rest: string;
  if (text.startsWith('n,') || text.startsWith('y,')) {
    cbindFlag = text[0] as 'n' | 'y';
    rest = text.slice(2);
  } else if (text.startsWith('p=')) {
    const comma = text.indexOf(',');
    if (comma < 0) throw malformed('client-first-message: unterminated channel binding name');
    const name = text.slice(2, comma);
    if (name !== 'tls-server-end-point') throw malformed(`unsupported SCRAM channel-binding type "${name.slice(0, 32)}"`);
    cbindFlag = 'p';
    rest = text.slice(comma + 1);
  } else {
    throw malformed('client-first-message: unexpected channel-binding flag');
  }
  if (rest.startsWith('a=')) throw malformed('client uses authorization identity, but it is not supported');
  if (!rest.startsWith(',')) throw malformed('client-first-message: unexpected attribute in the gs2 header');
  const gs2Header = text.slice(0, text.length - rest.length + 1);
  const bare = rest.slice(1);
  const parts = attributes(bare, 'client-first-message');
  // Anything after the nonce is an extension, ignored as the server does.
  const [user, nonce] = parts;
  if (user?.name === 'm') throw malformed('client requires an unsupported SCRAM extension');
  // The user name is ignored, as by the server: the startup packet's user is the one that counts.
  if (user?.name !== 'n') throw malformed('client-first-message: expected the username attribute');
  if (nonce?.name !== 'r' || !PRINTABLE.test(nonce.value)) throw malformed('client-first-message: expected a printable nonce');
  return { gs2Header, cbindFlag, bare, clientNonce: nonce.value };
}

export class ScramServer {
  private current: ScramState = 'initial';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private secret: ScramSecret | undefined;

  constructor(private readonly options: ScramServerOptions = {}) {}

  get state(): ScramState {
    return this.current;
  }

  /** Mechanisms to offer in AuthenticationSASL, most preferred first. */
  get mechanisms(): readonly ScramMechanism[] {
    return this.options.channelBinding === undefined ? [SCRAM_SHA_256] : [SCRAM_SHA_256_PLUS, SCRAM_SHA_256];
  }

  /** Takes the client-first-message (SASLInitialResponse data) and returns the server-first-message. */
  start(clientFirstMessage: Uint8Array | string, serverNonceSuffix: string, secret: ScramSecret,
    mechanism: string = SCRAM_SHA_256): string {
    if (this.current !== 'initial') throw new WireFormatError(`SCRAM: client-first-message in state ${this.current}`);
    if (!PRINTABLE.test(serverNonceSuffix)) throw new RangeError('server nonce suffix must be printable ASCII without commas');
    this.current = 'failed';
    if (mechanism !== SCRAM_SHA_256 && mechanism !== SCRAM_SHA_256_PLUS) {
      throw new WireFormatError(`SASL authentication mechanism "${mechanism.slice(0, 32)}" is not offered`);
    }
    const offeredPlus = this.options.channelBinding !== undefined;
    if (mechanism === SCRAM_SHA_256_PLUS && !offeredPlus) throw malformed('SCRAM-SHA-256-PLUS was not offered');
    const first = parseClientFirst(toText(clientFirstMessage));
    if (first.cbindFlag === 'p' && mechanism !== SCRAM_SHA_256_PLUS) {
      throw malformed('channel binding requested, but SCRAM-SHA-256-PLUS was not selected');
    }
    if (first.cbindFlag !== 'p' && mechanism === SCRAM_SHA_256_PLUS) {
      throw malformed('SCRAM-SHA-256-PLUS selected, but the client did not ask for channel binding');
    }
    // 'y' means "I could bind but think you cannot": when we offered PLUS, that is a downgrade in the middle.
    if (first.cbindFlag === 'y' && offeredPlus) {
      throw malformed('the client supports SCRAM channel binding but thinks the server does not; this server does');
    }
    this.gs2Header = first.gs2Header;
    this.clientFirstBare = first.bare;
    this.nonce = first.clientNonce + serverNonceSuffix;
    this.secret = secret;
    this.serverFirst = `r=${this.nonce},s=${Buffer.from(secret.salt).toString('base64')},i=${secret.iterations}`;
    this.current = 'server_first_sent';
    return this.serverFirst;
  }

  /** Takes the client-final-message (SASLResponse data); on success returns the server-final-message ("v=…"). */
  finish(clientFinalMessage: Uint8Array | string): ScramFinish {
    const secret = this.secret;
    if (this.current !== 'server_first_sent' || secret === undefined) {
      throw new WireFormatError(`SCRAM: client-final-message in state ${this.current}`);
    }
    this.current = 'failed';
    const text = toText(clientFinalMessage);
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw malformed('client-final-message: no proof');
    const withoutProof = text.slice(0, proofAt);
    const proofText = text.slice(proofAt + 3);
    const parts = attributes(withoutProof, 'client-final-message');
    const [binding, nonce] = parts;
    if (binding?.name !== 'c' || !BASE64.test(binding.value)) throw malformed('client-final-message: expected channel binding');
    if (nonce?.name !== 'r') throw malformed('client-final-message: expected the nonce');
    if (!BASE64.test(proofText)) throw malformed('client-final-message: proof is not base64');
    const proof = Buffer.from(proofText, 'base64');
    if (proof.length !== 32) throw malformed(`client-final-message: proof of ${proof.length} bytes, expected 32`);

    const cbindData = this.options.channelBinding?.data;
    const expectedBinding = Buffer.concat([Buffer.from(this.gs2Header, 'utf8'),
      ...(this.gs2Header.startsWith('p=') && cbindData !== undefined ? [cbindData] : [])]).toString('base64');
    if (binding.value !== expectedBinding) return { ok: false, reason: 'channel_binding_mismatch' };
    if (nonce.value !== this.nonce) return { ok: false, reason: 'nonce_mismatch' };

    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(secret.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
    const computedStoredKey = createHash('sha256').update(clientKey).digest();
    const matches = secret.storedKey.length === computedStoredKey.length && timingSafeEqual(computedStoredKey, secret.storedKey);
    if (!matches) return { ok: false, reason: 'invalid_proof' };
    this.current = 'succeeded';
    return { ok: true, serverFinalMessage: `v=${hmac(secret.serverKey, authMessage).toString('base64')}` };
  }
}

/**
 * A secret for a user that does not exist (unknown grant), derived from the name and a per-process secret: the
 * same salt on every attempt and a StoredKey nobody can match, so the exchange runs in full and fails exactly
 * like a wrong password (pgbouncer's approach). Use the same iteration count as real secrets.
 */
export function mockScramSecret(username: string, perProcessSecret: Uint8Array, iterations = 4096): ScramSecret {
  const derive = (purpose: string): Buffer => createHmac('sha256', perProcessSecret).update(`${purpose}\0${username}`, 'utf8').digest();
  return {
    iterations,
    salt: derive('jitgate mock salt').subarray(0, 16),
    storedKey: derive('jitgate mock stored key'),
    serverKey: derive('jitgate mock server key'),
  };
}
