// ≥ 100k random and mutated packets per decoder family, the framer and the result reader, seeded from real and built
// golden packets. Only WireFormatError may escape; a failure names the run's seed (MYSQL_FUZZ_SEED=<n> replays it).
import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import {
  decodeCachingSha2ClientReply, decodeCachingSha2ServerSignal, decodeCleartextPassword,
} from '../../protocols/mysql/auth-more-data.js';
import { decodeAuthSwitchRequest } from '../../protocols/mysql/auth-switch.js';
import { decodeClientCommand } from '../../protocols/mysql/client-commands.js';
import { decodeClientHandshake } from '../../protocols/mysql/client-handshake-response.js';
import { CapabilityFlag as C } from '../../protocols/mysql/constants.js';
import { PacketFramer } from '../../protocols/mysql/packet-framer.js';
import { ResultReader, type ResponseKind } from '../../protocols/mysql/result-reader.js';
import { decodeServerAuthReply } from '../../protocols/mysql/server-auth-reply.js';
import { decodeColumnDefinition41, scanColumnType } from '../../protocols/mysql/server-column-definition.js';
import { decodeServerGreeting } from '../../protocols/mysql/server-handshake.js';
import {
  decodeColumnCount, decodeEofPacket, decodeErrPacket, decodeLocalInfileRequest, decodeOkPacket, decodeStmtPrepareOk,
} from '../../protocols/mysql/server-results.js';
import { decodeComStmtExecute, type ParamType } from '../../protocols/mysql/stmt-execute.js';
import {
  captured, capturedResponses, cat, columnDef, eofPayload, errPayload, frame, hex, lenenc, lenStr, nul, okPayload, u16, u32,
} from '../support/mysql-frames.js';

const ITERATIONS = 100_000;
const RUN_SEED = Number(process.env.MYSQL_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)] as T;
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff];

function randomBytes(rng: Rng, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = int(rng, 256);
  return out;
}

/** Truncate, flip bits, poke interesting bytes, edit a length, insert, delete, splice — 1 to 3 of them. */
function mutate(rng: Rng, seeds: readonly Buffer[]): Buffer {
  if (rng() < 0.05) return randomBytes(rng, int(rng, 64));
  let bytes: Buffer = Buffer.from(pick(rng, seeds));
  for (let ops = 1 + int(rng, 3); ops > 0; ops--) {
    const at = bytes.length === 0 ? 0 : int(rng, bytes.length);
    switch (int(rng, 7)) {
      case 0: bytes = bytes.subarray(0, int(rng, bytes.length + 1)); break;
      case 1: if (bytes.length > 0) bytes[at] = (bytes[at] as number) ^ (1 << int(rng, 8)); break;
      case 2: if (bytes.length > 0) bytes[at] = pick(rng, INTERESTING); break;
      case 3: { // a length edited: a lenenc prefix or a raw little-endian field with a big value
        const edit = pick(rng, [hex('fc ff ff'), hex('fd ff ff ff'), hex('fe ff ff ff ff ff ff ff 7f'), hex('fb'), u32(0xffffffff), u16(0)]);
        bytes = cat(bytes.subarray(0, at), edit, bytes.subarray(Math.min(bytes.length, at + edit.length)));
        break;
      }
      case 4: bytes = cat(bytes.subarray(0, at), randomBytes(rng, 1 + int(rng, 8)), bytes.subarray(at)); break;
      case 5: bytes = cat(bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + int(rng, 8)))); break;
      default: bytes = cat(bytes.subarray(0, at), pick(rng, seeds).subarray(int(rng, 8))); break;
    }
  }
  return bytes;
}

/**
 * Runs `body` ITERATIONS times; anything but WireFormatError fails with the seed, iteration and input. Stack capture
 * is off while looping (a throw costs ~5 µs with it, and most mutated inputs are rejected); on a failure the family is
 * replayed from its seed with stacks on, so the report still shows where it broke.
 */
function fuzz(family: string, familySeed: number, body: (rng: Rng, record: (input: Uint8Array) => void) => void): number {
  const run = (count: number): { rejected: number; failure: { index: number; error: unknown; input: Uint8Array } | null } => {
    const rng = prng(RUN_SEED ^ familySeed);
    let last: Uint8Array = new Uint8Array(0);
    let rejected = 0;
    for (let i = 0; i < count; i++) {
      try {
        body(rng, (input) => { last = input; });
      } catch (error) {
        if (error instanceof WireFormatError) rejected++;
        else return { rejected, failure: { index: i, error, input: last } };
      }
    }
    return { rejected, failure: null };
  };
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let outcome: ReturnType<typeof run>;
  try {
    outcome = run(ITERATIONS);
  } finally {
    Error.stackTraceLimit = savedLimit;
  }
  if (outcome.failure !== null) {
    const { index, error, input } = run(outcome.failure.index + 1).failure ?? outcome.failure;
    throw new Error(`${family}: MYSQL_FUZZ_SEED=${RUN_SEED} iteration ${index} input ${Buffer.from(input).toString('hex').slice(0, 400)}: `
      + `${error instanceof Error ? error.stack : String(error)}`);
  }
  return outcome.rejected;
}

/** Each decoder on its own, so one rejecting does not hide a crash in the next. */
function each(input: Uint8Array, decoders: readonly ((bytes: Uint8Array) => unknown)[]): void {
  for (const decode of decoders) {
    try { decode(input); } catch (error) { if (!(error instanceof WireFormatError)) throw error; }
  }
}

const MARIADB = 0x81fff7fe & 0x08bbf3ce;
const MYSQL8 = C.CLIENT_PROTOCOL_41 | C.CLIENT_QUERY_ATTRIBUTES | C.CLIENT_SESSION_TRACK | C.CLIENT_DEPRECATE_EOF
  | C.CLIENT_OPTIONAL_RESULTSET_METADATA | C.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
const CAPS = [MARIADB, MYSQL8, 0, C.CLIENT_PROTOCOL_41];
const responsePackets = Object.values(capturedResponses).flat().map((text) => hex(text));

describe(`mysql fuzz (MYSQL_FUZZ_SEED=${RUN_SEED})`, () => {
  it('handshake decoders: greetings and client responses', () => {
    const greetings = [captured.mariadbHandshake, captured.authSwitchGreeting, cat([0xff], u16(1130), 'Host not allowed')];
    const responses = [captured.cliHandshakeResponse, captured.mysql2HandshakeResponse, captured.mysql2NativeResponse,
      cat(u32(C.CLIENT_PROTOCOL_41 | C.CLIENT_SSL), u32(0), [45], Buffer.alloc(23))];
    fuzz('server greeting', 1, (rng, record) => { const input = mutate(rng, greetings); record(input); decodeServerGreeting(input); });
    fuzz('client handshake', 2, (rng, record) => { const input = mutate(rng, responses); record(input); decodeClientHandshake(input); });
  });

  it('auth-phase decoders', () => {
    const seeds = [captured.okSessionSchema, captured.accessDenied, captured.authSwitchRequest, hex('01 03'), hex('01 04'), hex('02'),
      cat([0x01], '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), nul('password')];
    fuzz('auth phase', 3, (rng, record) => {
      const input = mutate(rng, seeds);
      record(input);
      const caps = pick(rng, CAPS);
      each(input, [(b) => decodeServerAuthReply(b, caps), decodeAuthSwitchRequest, decodeCachingSha2ServerSignal,
        decodeCachingSha2ClientReply, decodeCleartextPassword]);
    });
  });

  it('server result decoders', () => {
    const seeds = [...responsePackets, captured.okInsertInfo, captured.localInfileRequest, captured.unknownCommand,
      columnDef({ name: 'j', type: 0xfc }, true), cat(columnDef({ name: 'd', type: 3 }), lenStr('0')), hex('00 01000000 0900 0900 00 0000')];
    fuzz('server results', 4, (rng, record) => {
      const input = mutate(rng, seeds);
      record(input);
      const caps = pick(rng, CAPS);
      const extendedMetadata = rng() < 0.5;
      each(input, [(b) => decodeOkPacket(b, caps), (b) => decodeErrPacket(b, caps), (b) => decodeEofPacket(b, caps),
        (b) => decodeColumnCount(b, extendedMetadata), (b) => decodeColumnDefinition41(b, { extendedMetadata }),
        (b) => scanColumnType(b, { extendedMetadata }), decodeLocalInfileRequest, (b) => decodeStmtPrepareOk(b, caps)]);
    });
  });

  it('client command decoders', () => {
    const seeds = [hex('0373656c6563742031'), cat([0x03], lenenc(2), lenenc(1), [2], [1], [0xfd, 0], lenStr('a'), [8, 0x80], lenStr('b'),
      lenStr('v'), 'select 1'), cat([0x02], 'test'), cat([0x04], nul('t'), '%'), cat([0x18], u32(1), u16(0), 'data'),
      cat([0x19], u32(1)), cat([0x1c], u32(1), u32(5)), cat([0x1b], u16(0)), cat([0xfa], u32(1), u16(0)), hex('01'), hex('0e'),
      captured.mysql2Execute, cat([0x16], 'select ?')];
    fuzz('client commands', 5, (rng, record) => {
      const input = mutate(rng, seeds);
      record(input);
      const payloadLength = rng() < 0.3 ? input.length + int(rng, 1 << 20) : input.length;
      decodeClientCommand(input, { capabilities: pick(rng, CAPS), payloadLength, maxValueBytes: 1 + int(rng, 64) });
    });
  });

  it('COM_STMT_EXECUTE with random statement state', () => {
    const types: readonly ParamType[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xf6, 0xfc, 0xfd, 0xfe, 0xff, 0x10]
      .map((columnType) => ({ columnType, unsigned: columnType % 2 === 0 }));
    const seeds = [captured.mysql2Execute, captured.mysql2ExecuteSecond, cat([0x17], u32(1), [8], u32(1), lenenc(1), [0], [1], [0xfd, 0],
      lenStr('k'), lenStr('v')), cat([0x17], u32(1), [0], u32(1), [0], [1], [0x0b, 0], [12, 1], u32(2), [3, 4, 5], u32(6))];
    fuzz('stmt execute', 6, (rng, record) => {
      const input = mutate(rng, seeds);
      record(input);
      const paramCount = int(rng, 12);
      const boundTypes = rng() < 0.5 ? null : Array.from({ length: rng() < 0.8 ? paramCount : int(rng, 12) }, () => pick(rng, types));
      const longDataParams = new Set(Array.from({ length: int(rng, 3) }, () => int(rng, paramCount + 1)));
      const payloadLength = rng() < 0.3 ? input.length + int(rng, 1 << 24) : input.length;
      decodeComStmtExecute(input, { paramCount, boundTypes, longDataParams },
        { capabilities: pick(rng, CAPS), payloadLength, maxValueBytes: 1 + int(rng, 64) });
    });
  });

  it('the packet framer, with random chunking and options', () => {
    const framesSeeds = [frame(0, hex('0373656c6563742031')), frame(1, captured.okInsertInfo), frame(2, Buffer.alloc(0)),
      frame(3, captured.mysql2Execute), cat(frame(0, Buffer.alloc(300, 1)), frame(1, hex('01')))];
    let packets = 0;
    fuzz('framer', 7, (rng, record) => {
      const stream = cat(...Array.from({ length: 1 + int(rng, 4) }, () => mutate(rng, framesSeeds)));
      record(stream);
      const framer = new PacketFramer(() => { packets++; }, {
        maxPayloadBytes: pick(rng, [0, 10, 300, 1 << 16]), checkSequence: rng() < 0.5, firstSequenceId: int(rng, 4),
        ...(rng() < 0.3 ? { retainBytes: int(rng, 64) } : {}),
      });
      for (let offset = 0; offset < stream.length;) {
        const size = 1 + int(rng, 40);
        framer.push(stream.subarray(offset, offset + size));
        offset += size;
      }
    });
    expect(packets).toBeGreaterThan(ITERATIONS / 10);
  });

  it('the result reader, over mutated and reordered real responses', () => {
    const sequences: readonly [ResponseKind, readonly Buffer[]][] = [
      ['query', capturedResponses.cliSelect3.map((t) => hex(t))], ['query', capturedResponses.mysql2Multi.map((t) => hex(t))],
      ['query', capturedResponses.deprecateEofMulti.map((t) => hex(t))], ['stmt_prepare', capturedResponses.deprecateEofPrepare.map((t) => hex(t))],
      ['stmt_execute', capturedResponses.deprecateEofCursorExecute.map((t) => hex(t))], ['stmt_fetch', capturedResponses.deprecateEofFetch.map((t) => hex(t))],
      ['field_list', capturedResponses.deprecateEofFieldList.map((t) => hex(t))], ['statistics', capturedResponses.statistics.map((t) => hex(t))],
      ['simple', [okPayload(0, 0, 2)]], ['simple', [eofPayload(0, 2)]], ['query', [captured.localInfileRequest, okPayload(1, 0, 2)]],
      ['query', [hex('01'), columnDef({ name: 'a', type: 3 }), errPayload(1317, '70100', 'interrupted')]],
    ];
    const options = [{ capabilities: MARIADB, mariadbCapabilities: 0x1d }, { capabilities: MARIADB, mariadbCapabilities: 0x08 },
      { capabilities: C.CLIENT_PROTOCOL_41 | C.CLIENT_DEPRECATE_EOF }, { capabilities: MYSQL8 }];
    let events = 0;
    fuzz('result reader', 8, (rng, record) => {
      const [kind, packets] = pick(rng, sequences);
      const reader = new ResultReader(pick(rng, options));
      reader.start(kind);
      for (const original of packets) {
        const packet = rng() < 0.3 ? mutate(rng, [original, ...responsePackets]) : original;
        record(packet);
        if (reader.done) reader.start(pick(rng, sequences)[0]);
        if (reader.push(packet, rng() < 0.1 ? packet.length + int(rng, 1 << 25) : packet.length) !== null) events++;
      }
    });
    expect(events).toBeGreaterThan(ITERATIONS / 10);
  });
});
