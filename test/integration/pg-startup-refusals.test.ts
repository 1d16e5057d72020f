// Malformed startup packets, byte for byte, against PostgreSQL itself and through jitgate, with identical
// expectations (issue 19, defect 10a). The server's table (ProcessStartupPacket): a length out of bounds or a packet
// cut short closes without a byte; a bad layout or a missing user is a FATAL; a protocol version it does not speak is
// a FATAL 0A000 (in 2.0's framing for a client that asked for less than 3.0); a second SSLRequest is read as version
// 1234.5679. jitgate must answer each the same way, and still record the refused attempt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHeadSeq, waitForAudit } from '../support/audit-reader.js';
import { pgAdminUrl } from '../support/databases.js';
import { bytes, cstr, int32, startupFrame } from '../support/pg-frames.js';
import { errorFields, RawPgClient, startupMessage } from '../support/pg-raw-client.js';
import { createJitgatePgTarget, type PgTargetHandle } from '../support/pg-target.js';
import type { JitgateInstance } from '../support/jitgate-instance.js';

let jitgate: (PgTargetHandle & { readonly instance: JitgateInstance }) | undefined;

beforeAll(async () => {
  jitgate = await createJitgatePgTarget('pg_startup_refusals');
});

afterAll(async () => {
  await jitgate?.cleanup();
});

const SSL_REQUEST = startupFrame(int32(80_877_103));
const TERMINATE = bytes('X', int32(4));
const v3 = int32(196_608);

/** What a raw client saw: the answer, message by message, and whether the peer closed. */
interface Seen {
  readonly answer: string[];
  readonly closed: boolean;
}

/** The answer as comparable text: single bytes ('N'), v3 ErrorResponses by S/C/M, a v2 error by its string. */
function describeAnswer(received: Buffer): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < received.length;) {
    const type = String.fromCharCode(received[pos] as number);
    if (type === 'N' || type === 'S') {
      out.push(type);
      pos += 1;
    } else if (type === 'E' && received.subarray(pos + 1, pos + 7).toString('latin1') === 'FATAL:') {
      const end = received.indexOf(0, pos + 1);
      out.push(`E(v2) ${received.subarray(pos + 1, end).toString('utf8')}`);
      pos = end + 1;
    } else {
      const length = received.readInt32BE(pos + 1);
      const fields = errorFields(received.subarray(pos + 5, pos + 1 + length));
      out.push(`${type} ${fields.S ?? ''} ${fields.C ?? ''} ${fields.M ?? ''}`);
      pos += 1 + length;
    }
  }
  return out;
}

/** Sends `parts` (a pause between them, as a client waiting for each answer would), then reads until close or `openMs`. */
async function send(port: number, parts: readonly Buffer[], options: { endAfter?: boolean; openMs?: number } = {}): Promise<Seen & { address: string }> {
  const client = await RawPgClient.connect(port);
  for (const part of parts) {
    client.write(part);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  if (options.endAfter === true) client.socket.end();
  const { received, closed } = await client.settle(options.openMs ?? 3_000);
  client.close();
  return { answer: describeAnswer(received), closed, address: client.address };
}

interface Case {
  readonly name: string;
  readonly parts: readonly Buffer[];
  readonly endAfter?: boolean;
  readonly openMs?: number;
  readonly seen: Seen;
  /** The `session.auth_failed` jitgate records (reason pattern, code); none when the server would still wait. */
  readonly recorded?: { readonly reason: RegExp; readonly code: string };
}

const silentClose: Seen = { answer: [], closed: true };

const CASES: readonly Case[] = [
  { name: 'Terminate before the startup packet (node-postgres ending while connecting)', parts: [bytes(TERMINATE, startupMessage({ user: 'u', database: 'd' }))],
    seen: silentClose, recorded: { reason: /^protocol violation: invalid length of startup packet: 1476395008 \(a Terminate message/, code: '08P01' } },
  { name: 'a lone Terminate', parts: [TERMINATE], seen: silentClose,
    recorded: { reason: /invalid length of startup packet: 1476395008/, code: '08P01' } },
  { name: 'an HTTP request', parts: [Buffer.from('GET / HTTP/1.1\r\nHost: jitgate\r\n\r\n')], seen: silentClose,
    recorded: { reason: /^protocol violation: invalid length of startup packet: 1195725856$/, code: '08P01' } },
  { name: 'a declared length of 10005 (the server takes 10000 after the length field)', parts: [int32(10_005)], seen: silentClose,
    recorded: { reason: /invalid length of startup packet: 10005$/, code: '08P01' } },
  { name: 'a declared length of 7', parts: [int32(7)], seen: silentClose, recorded: { reason: /invalid length of startup packet: 7$/, code: '08P01' } },
  { name: 'a CancelRequest of 12 bytes', parts: [startupFrame(int32(80_877_102), int32(1))], seen: silentClose,
    recorded: { reason: /invalid length of CancelRequest: 12$/, code: '08P01' } },
  { name: 'a packet cut short by the client', parts: [int32(100), Buffer.from('abc')], endAfter: true, seen: silentClose,
    recorded: { reason: /^protocol violation: incomplete startup packet \(the client closed after 7 bytes\)$/, code: '08P01' } },
  { name: 'protocol 2.0: FATAL 0A000 in 2.0\'s framing', parts: [startupFrame(int32(0x2_0000), cstr('user'), cstr('u'), [0])],
    seen: { answer: ['E(v2) FATAL:  unsupported frontend protocol 2.0: server supports 3.0 to 3.0\n'], closed: true },
    recorded: { reason: /unsupported frontend protocol 2\.0/, code: '0A000' } },
  { name: 'a parameter list without its terminator', parts: [startupFrame(v3, cstr('user'), cstr('u'))],
    seen: { answer: ['E FATAL 08P01 invalid startup packet layout: expected terminator as last byte'], closed: true },
    recorded: { reason: /expected terminator as last byte \(parameter list has no terminating NUL\)$/, code: '08P01' } },
  { name: 'a parameter without a value', parts: [startupFrame(v3, cstr('user'), cstr('u'), cstr('database'))],
    seen: { answer: ['E FATAL 08P01 invalid startup packet layout: expected terminator as last byte'], closed: true },
    recorded: { reason: /odd parameter list/, code: '08P01' } },
  { name: 'no user', parts: [startupFrame(v3, cstr('database'), cstr('d'), [0])],
    seen: { answer: ['E FATAL 28000 no PostgreSQL user name specified in startup packet'], closed: true },
    recorded: { reason: /no PostgreSQL user name/, code: '28000' } },
  { name: 'SSLRequest twice: the second is read as protocol 1234.5679', parts: [SSL_REQUEST, SSL_REQUEST],
    seen: { answer: ['N', 'E FATAL 0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0'], closed: true },
    recorded: { reason: /unsupported frontend protocol 1234\.5679/, code: '0A000' } },
  { name: 'an SSLRequest with 4 extra bytes is still an SSLRequest', parts: [startupFrame(int32(80_877_103), int32(0))], openMs: 500,
    seen: { answer: ['N'], closed: false } },
  { name: 'a declared length of 10004 is waited for', parts: [int32(10_004)], openMs: 500, seen: { answer: [], closed: false } },
];

describe('malformed startup packets: PostgreSQL and jitgate answer alike', () => {
  it.each(CASES)('$name', async ({ parts, endAfter, openMs, seen, recorded }) => {
    const { instance, target } = jitgate ?? (() => { throw new Error('the jitgate target was not created'); })();
    const options = { ...(endAfter === undefined ? {} : { endAfter }), ...(openMs === undefined ? {} : { openMs }) };
    const mark = await auditHeadSeq(instance.handle);
    const direct = await send(Number(new URL(pgAdminUrl()).port), parts, options);
    const through = await send(target.port, parts, options);
    expect({ answer: direct.answer, closed: direct.closed }).toEqual(seen);
    expect({ answer: through.answer, closed: through.closed }).toEqual(seen);
    if (recorded === undefined) return;
    const event = await waitForAudit(instance.handle, mark, (candidate) => candidate.type === 'session.auth_failed' && candidate.client === through.address);
    expect(event).toMatchObject({ protocol: 'postgres', user: '', code: recorded.code });
    expect(String(event.reason)).toMatch(recorded.reason);
  });
});
