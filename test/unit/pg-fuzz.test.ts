// Fuzz: ≥ 100k random and mutated inputs per decoder family and for the FrameScanner, seeded from golden frames.
// Only WireFormatError may escape. The seed is random per run (PG_FUZZ_SEED replays one) and printed on failure.
import { createHash } from 'node:crypto';
import { describe, it } from 'vitest';
import { decodeBackendMessage } from '../../protocols/postgres/backend.js';
import { FrameScanner } from '../../protocols/postgres/frame-scanner.js';
import { decodeFrontendMessage } from '../../protocols/postgres/frontend.js';
import { decodePasswordMessage, decodeSASLInitialResponse, decodeSASLResponse } from '../../protocols/postgres/frontend-auth.js';
import { decodeBindParameters, decodeParameter, TypeOid } from '../../protocols/postgres/param-decode.js';
import { type ScramSecret, ScramServer } from '../../protocols/postgres/scram-server.js';
import { decodeStartupPacket, scanStartupPacket } from '../../protocols/postgres/startup.js';
import { WireFormatError } from '../../protocols/shared/wire-format-error.js';
import { bytes, cstr, frame, hex, int16, int32, int64, int8, seededRandom, startupFrame, value } from '../support/pg-frames.js';

const ITERATIONS = 100_000;
const SEED = Number(process.env['PG_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

type Random = () => number;
const below = (random: Random, n: number): number => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[below(random, items.length)] as T;
const INTERESTING_16 = [0, 1, 2, 0x7fff, 0x8000, 0xffff, 0xfffe, 3, 255, 256];
const INTERESTING_32 = [0, 1, 4, 5, -1, -2, 0x7fffffff, -0x80000000, 0x40000000, 10000, 10001, 65535, 196608, 80877103];

/** Truncates, extends, flips bits, edits 16/32-bit fields, splices: one to three steps. */
function mutate(random: Random, input: Buffer, corpus: readonly Buffer[]): Buffer {
  if (random() < 0.05) return Buffer.from(Array.from({ length: below(random, 64) }, () => below(random, 256)));
  let out: Buffer = Buffer.from(input);
  for (let steps = 1 + below(random, 3); steps > 0; steps--) {
    const at = below(random, out.length + 1);
    switch (below(random, 8)) {
      case 0: out = out.subarray(0, at); break;
      case 1: out = bytes(out, Array.from({ length: 1 + below(random, 16) }, () => below(random, 256))); break;
      case 2: if (out.length > 0) { const i = below(random, out.length); out[i] = (out[i] as number) ^ (1 << below(random, 8)); } break;
      case 3: if (at + 2 <= out.length) out.writeUInt16BE(pick(random, INTERESTING_16), at); break;
      case 4: if (at + 4 <= out.length) out.writeInt32BE(pick(random, INTERESTING_32), at); break;
      case 5: if (out.length > 0) out[below(random, out.length)] = below(random, 256); break;
      case 6: { const other = pick(random, corpus); out = bytes(out.subarray(0, at), other.subarray(below(random, other.length + 1))); break; }
      default: out = bytes(out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + below(random, 8))));
    }
  }
  return out;
}

/** Runs `attempt` on ITERATIONS mutated inputs; anything but WireFormatError fails with seed, iteration and input. */
function fuzz(family: string, seed: number, corpus: readonly Buffer[], attempt: (input: Buffer, random: Random) => void): void {
  const random = seededRandom(seed);
  const started = performance.now();
  let ok = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(random, pick(random, corpus), corpus);
    try {
      attempt(input, random);
      ok++;
    } catch (error) {
      if (error instanceof WireFormatError) continue;
      throw new Error(`${family} fuzz: ${String(error)} (PG_FUZZ_SEED=${SEED}, family seed ${seed}, iteration ${i}, input ${input.toString('hex')})`);
    }
  }
  console.log(`pg fuzz ${family}: ${ITERATIONS} inputs (${ok} decoded) in ${Math.round(performance.now() - started)} ms (PG_FUZZ_SEED=${SEED})`);
}

const frontendCorpus = [
  frame('Q', cstr('select 1')), frame('X'), frame('S'), frame('H'), frame('c'), frame('d', 'abc'), frame('f', cstr('no')),
  frame('F', int32(1598), int16(1), int16(1), int16(2), value('ab'), value(null), int16(0)),
  frame('P', cstr('s1'), cstr('select $1, $2'), int16(2), int32(23), int32(25)),
  frame('B', cstr('p'), cstr('s1'), int16(2), int16(1), int16(0), int16(2), value(int32(5)), value('x'), int16(1), int16(1)),
  frame('B', cstr(''), cstr(''), int16(0), int16(1), value(null), int16(0)),
  frame('D', 'S', cstr('s1')), frame('C', 'P', cstr('')), frame('E', cstr(''), int32(10)),
  frame('p', cstr('secret')), frame('p', cstr('SCRAM-SHA-256'), int32(8), 'n,,n=,r='), frame('p', cstr('SCRAM-SHA-256'), int32(-1)),
];

const backendCorpus = [
  frame('C', cstr('INSERT 0 1')), frame('Z', 'I'), frame('S', cstr('a'), cstr('b')), frame('K', int32(1), int32(2)),
  frame('G', int8(0), int16(2), int16(0), int16(1)), frame('H', int8(1), int16(0)), frame('W', int8(0), int16(1), int16(0)),
  frame('I'), frame('n'), frame('1'), frame('2'), frame('3'), frame('s'),
  frame('E', 'S', cstr('ERROR'), 'V', cstr('ERROR'), 'C', cstr('42P01'), 'M', cstr('m'), 'P', cstr('3'), [0]),
  frame('N', 'S', cstr('NOTICE'), 'C', cstr('00000'), 'M', cstr('n'), [0]),
  frame('R', int32(0)), frame('R', int32(5), [1, 2, 3, 4]), frame('R', int32(10), cstr('SCRAM-SHA-256'), [0]), frame('R', int32(11), 'r=x'),
  frame('D', int16(1), value('x')), frame('T', int16(0)), frame('A', int32(1), cstr('c'), cstr('p')),
];

const startupCorpus = [
  startupFrame(int32(196608), cstr('user'), cstr('u'), cstr('database'), cstr('d'), [0]),
  hex('00 00 00 08 04 d2 16 2f'), hex('00 00 00 08 04 d2 16 30'), hex('00 00 00 10 04 d2 16 2e 00 00 00 01 00 00 00 02'),
  startupFrame(int32(196610), cstr('user'), cstr('u'), cstr('_pq_.x'), cstr('1'), [0]),
];

const paramOids = Object.values(TypeOid);
const paramCorpus = [
  hex('01'), int16(7), int32(-3), int64(5n), hex('3f c0 00 00'), hex('3f f8 00 00 00 00 00 00'), int32(8825), int64(-1n),
  hex('0003 0001 4000 0003 0001 0929 1a7c'), hex('0000 0000 c000 0000'), hex('a0eebc999c0b4ef8bb6d6bb9bd380a11'), bytes([1], '{}'), Buffer.from('txt'),
];

const scramSecret: ScramSecret = { iterations: 4096, salt: Buffer.alloc(16, 7), storedKey: createHash('sha256').update('k').digest(), serverKey: Buffer.alloc(32, 1) };
const scramFirsts = ['n,,n=user,r=rOprNGfwEbeRWgbNEkqO', 'y,,n=,r=abc', 'p=tls-server-end-point,,n=,r=a', 'n,,n=*,r=x,ext=1'].map((t) => Buffer.from(t));
const scramFinals = ['c=biws,r=rOprNGfwEbeRWgbNEkqOsrv,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'c=eSws,r=abcsrv,x=1,p=AAAA']
  .map((t) => Buffer.from(t));

const seedFor = (family: string): number => (SEED ^ createHash('sha256').update(family).digest().readUInt32BE(0)) >>> 0;

describe(`PostgreSQL codec fuzz (PG_FUZZ_SEED=${SEED})`, () => {
  it('startup packets', () => {
    fuzz('startup', seedFor('startup'), startupCorpus, (input) => {
      const scan = scanStartupPacket(input);
      if (scan.type !== 'need_more' && scan.type !== 'complete' && scan.type !== 'invalid') throw new Error('scan answered nothing');
      decodeStartupPacket(input.subarray(4));
    });
  });

  it('frontend messages, auth messages and Bind parameters', () => {
    fuzz('frontend', seedFor('frontend'), frontendCorpus, (input, random) => {
      const type = input[0] ?? 0;
      const body = input.subarray(5);
      if (type === 0x70) {
        const which = below(random, 3);
        if (which === 0) decodePasswordMessage(body);
        else if (which === 1) decodeSASLInitialResponse(body);
        else decodeSASLResponse(body);
        return;
      }
      const message = decodeFrontendMessage(type, body);
      if (message.type === 'bind') decodeBindParameters(message, message.params.map(() => pick(random, paramOids)));
    });
  });

  it('backend messages', () => {
    fuzz('backend', seedFor('backend'), backendCorpus, (input) => {
      decodeBackendMessage(input[0] ?? 0, input.subarray(5));
    });
  });

  it('binary parameters by type OID', () => {
    fuzz('params', seedFor('params'), paramCorpus, (input, random) => {
      const result = decodeParameter(input, 1, pick(random, [...paramOids, 0, 600]));
      if (typeof result !== 'string') throw new Error('no text for a non-null value');
    });
  });

  it('SCRAM client-first and client-final messages', () => {
    fuzz('scram', seedFor('scram'), [...scramFirsts, ...scramFinals], (input, random) => {
      const server = new ScramServer();
      server.start(random() < 0.5 ? input : pick(random, scramFirsts), 'srv', scramSecret);
      const result = server.finish(random() < 0.5 ? input : pick(random, scramFinals));
      if (result.ok) throw new Error('a mutated exchange succeeded');
    });
  });

  it('FrameScanner on mutated streams in random chunks, against the same stream unsplit', () => {
    const frames = [...frontendCorpus, ...backendCorpus];
    const streams = Array.from({ length: 64 }, (_, i) => {
      const random = seededRandom(seedFor('streams') + i);
      return bytes(...Array.from({ length: 1 + below(random, 8) }, () => pick(random, frames)));
    });
    /** Scans `input` whole (maxChunk 0) or in chunks of at most `maxChunk`; logs [type, total, body checksum or -1]… */
    const run = (input: Buffer, maxChunk: number, wants: Uint8Array, maxMessageBytes: number, random: Random): { log: number[]; failed: boolean } => {
      const log: number[] = [];
      let delivered = 0;
      const scanner = new FrameScanner({
        maxMessageBytes, wants, typeLimits: { [0x53]: 4 }, retainBytes: 64,
        onMessage: (type, body, total) => {
          if (body !== undefined && body.length !== total - 5) throw new Error(`body of ${body.length} for total ${total}`);
          if ((body !== undefined) !== (wants[type] === 1)) throw new Error('wants table not honoured');
          let sum = -1;
          if (body !== undefined) { sum = 0; for (const byte of body) sum = (sum * 31 + byte) | 0; }
          log.push(type, total, sum);
          delivered += total;
        },
      });
      try {
        for (let at = 0; at < input.length;) {
          const size = maxChunk === 0 ? input.length : 1 + below(random, maxChunk);
          scanner.push(input.subarray(at, at + size));
          at = Math.min(input.length, at + size);
          if (delivered + scanner.bufferedBytes > at) throw new Error('accounted for more bytes than were pushed');
        }
      } catch (error) {
        if (error instanceof WireFormatError) return { log, failed: true };
        throw error;
      }
      return { log, failed: false };
    };
    fuzz('scanner', seedFor('scanner'), streams, (input, random) => {
      const wants = new Uint8Array(256);
      for (let type = 0; type < 256; type += 32) {
        const bits = Math.floor(random() * 2 ** 32);
        for (let bit = 0; bit < 32; bit++) wants[type + bit] = (bits >>> bit) & 1;
      }
      const maxMessageBytes = pick(random, [4, 16, 64, 1 << 20]);
      const whole = run(input, 0, wants, maxMessageBytes, random);
      const chunked = run(input, 24, wants, maxMessageBytes, random);
      if (whole.failed !== chunked.failed || whole.log.join() !== chunked.log.join()) {
        throw new Error(`chunked scan differs from unsplit: ${whole.log.join()} / ${chunked.log.join()}`);
      }
      if (whole.failed) throw new WireFormatError('refused (as expected for some mutations)');
    });
  });
});
