// The SIEM stream: one JSON line per chained event, to a file or stdout, through sonic-boom (pino's asynchronous
// destination). A line is the stored canonical body with the stream's format member and the chain position in
// front, so it is built by concatenation, not by serialising the event again. Under `durability: fsync` a batch
// resolves only after its bytes are written and the file is fsynced — asynchronously, so the event loop never
// blocks on the disk.
import { once } from 'node:events';
import { fsync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import { bodyAt, type AuditBatchColumns, type ChainAssignment, type StoredAuditEvent } from '../records.js';
import type { AuditDurability, AuditStreamSink } from './sink.js';
import { canonicalJson } from '../canonical.js';
import { redactSecrets } from '../redact.js';

/** Tells consumers which stream and format version a line belongs to; always the line's first member. */
export const STREAM_FORMAT_MEMBER = { jitgate: 'audit.v1' } as const;
const LINE_PREFIX = JSON.stringify(STREAM_FORMAT_MEMBER).slice(0, -1);

// A member whose name looks secret and whose value is not the placeholder (REDACTED). Keys follow `{` or `,` in
// canonical JSON and quotes inside strings are escaped, so a match is a real member, never text in a value.
const UNREDACTED_SECRET_MEMBER = /[{,]"[^"\\]*(?:token|password|secret|authorization|api_?key)":(?!"\[redacted\]")/i;

export interface JsonlAuditSinkOptions {
  /** A file path (created 0600, missing parent directories 0700) or "-" for stdout. */
  readonly file: string;
  /** Operational messages only; never lines or bodies. */
  readonly logger?: Logger;
}

type Destination = ReturnType<typeof pino.destination>;

// Errors fsync raises for descriptors that cannot be synced (pipes, terminals): stdout under a supervisor.
const UNSYNCABLE = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * The line for one stored record: its stored body with `jitgate` and `chain` (never event members) in front. The body
 * was made from a redacted event; a second net still censors a secret-named member should one ever get through.
 */
export function streamLine(record: StoredAuditEvent): string {
  return lineOf(record.body, record.seq, record.prev, record.hash);
}

/** The body a line carries: the stored one, unless a secret-named member got through (the second net). */
const lineBody = (stored: string): string => (UNREDACTED_SECRET_MEMBER.test(stored) ? canonicalJson(redactSecrets(JSON.parse(stored) as unknown)) : stored);

/** The line of one event at its chain position (prev and hash are hex, so they need no escaping). */
function lineOf(stored: string, seq: number, prev: string, hash: string): string {
  const body = lineBody(stored);
  const chain = `"chain":{"seq":${seq},"prev":"${prev}","hash":"${hash}"}`;
  return body === '{}' ? `${LINE_PREFIX},${chain}}\n` : `${LINE_PREFIX},${chain},${body.slice(1)}\n`;
}

/** Bytes of a line besides its body: the format member, the chain member (seq, two hashes), separators. */
const LINE_OVERHEAD_BYTES = 256;

/** Writes `lineOf(...)` into `out` at `at` without building it as one string; returns where it ends. */
function writeLine(out: Buffer, at: number, stored: string, seq: number, prev: string, hash: string): number {
  const body = lineBody(stored);
  let end = at + out.write(`${LINE_PREFIX},"chain":{"seq":${seq},"prev":"${prev}","hash":"${hash}"}`, at, 'latin1');
  if (body === '{}') {
    end += out.write('}\n', end, 'latin1');
  } else {
    end += out.write(',', end, 'latin1');
    end += out.write(body.slice(1), end, 'utf8');
    end += out.write('\n', end, 'latin1');
  }
  return end;
}

/** The file holds every statement and its parameters: the same privacy as the store (0600 in a 0700 directory). */
const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates missing parent directories 0700 (existing ones are the operator's). An existing file that others may read
 * is left as it is (a SIEM shipper's group may be meant to read it) but named in a warning (docs/decisions.md §21).
 */
function preparePrivateFile(file: string, logger: Logger | undefined): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch {
    // The open that follows fails with the same cause (ENOTDIR, EACCES) and reports it where a failed open goes.
  }
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return; // not there yet: created 0600 on open (or the open reports why it cannot be)
  }
  if ((mode & 0o077) !== 0) {
    logger?.warn({ file, mode: `0${mode.toString(8)}` },
      'audit file is open to other users: it holds every statement and its parameters; chmod 600 it unless that is intended');
  }
}

export class JsonlAuditSink implements AuditStreamSink {
  readonly #destination: Destination;
  /** Highest chain seq whose line is known written: a retried batch does not repeat those lines. */
  #writtenSeq = 0;
  #closing: Promise<void> | undefined;

  /** Opens the destination and waits until it is ready, so a bad path fails at startup, not at the first event. */
  static async open(options: JsonlAuditSinkOptions): Promise<JsonlAuditSink> {
    const sink = JsonlAuditSink.create(options);
    try {
      await once(sink.#destination, 'ready');
    } catch (error) {
      // pino's exit hook would flushSync the never-opened file and throw "sonic boom is not ready yet" at exit.
      // destroy() cannot mark a stream that never opened as destroyed (sonic-boom waits for a 'ready' that will not
      // come); 'close' is what unregisters the hook (pino's buildSafeSonicBoom listens for it).
      sink.#destination.destroy();
      sink.#destination.emit('close');
      throw error;
    }
    return sink;
  }

  /** Starts opening without waiting: an open failure then shows as failing batches (logged, retried). */
  static create(options: JsonlAuditSinkOptions): JsonlAuditSink {
    if (options.file === '-') return new JsonlAuditSink(pino.destination({ dest: 1, sync: false, contentMode: 'buffer' }), options.logger);
    preparePrivateFile(options.file, options.logger);
    // mode applies when the file is created; the umask can only narrow it.
    return new JsonlAuditSink(pino.destination({ dest: options.file, mode: PRIVATE_FILE_MODE, sync: false, contentMode: 'buffer' }), options.logger);
  }

  private constructor(destination: Destination, logger: Logger | undefined) {
    this.#destination = destination;
    // Without a listener an 'error' event would crash the process; batches see errors through their own waits.
    destination.on('error', (error: NodeJS.ErrnoException) => {
      logger?.warn({ err: { message: error.message, code: error.code } }, 'audit stream write failed');
    });
  }

  async write(columns: AuditBatchColumns, assignment: ChainAssignment, durability: AuditDurability): Promise<void> {
    const count = assignment.hashes.length;
    // Encoded straight into one buffer, part by part: a batch's lines joined as one string would be a large object
    // the heap maps afresh (and faults in) per batch, then encoded once more by the stream.
    let capacity = 0;
    for (let index = 0; index < count; index++) capacity += bodyAt(columns, index).length * 3 + LINE_OVERHEAD_BYTES;
    const out = Buffer.allocUnsafe(capacity);
    let used = 0;
    let prev = assignment.prev;
    let lastSeq = 0;
    for (let index = 0; index < count; index++) {
      const seq = assignment.firstSeq + index;
      const hash = assignment.hashes[index] ?? '';
      if (seq > this.#writtenSeq) used = writeLine(out, used, bodyAt(columns, index), seq, prev, hash);
      prev = hash;
      lastSeq = seq;
    }
    if (used > 0) {
      // contentMode 'buffer' (create): sonic-boom takes Buffers, which pino's types do not say.
      (this.#destination as unknown as { write(data: Buffer): boolean }).write(out.subarray(0, used));
      // The write is asynchronous, so a 'drain' (everything written) or an 'error' follows.
      await this.untilWritten();
      this.#writtenSeq = lastSeq;
    }
    if (durability === 'fsync') await this.fsyncDestination();
  }

  close(): Promise<void> {
    this.#closing ??= this.endDestination();
    return this.#closing;
  }

  private async endDestination(): Promise<void> {
    const closed = once(this.#destination, 'close');
    this.#destination.end();
    try {
      await closed;
    } catch (error) {
      // The last lines cannot be written (ENOSPC, EIO): the stream never closes, and pino's exit hook would flushSync
      // it at exit, where sonic-boom retries every write error forever — the process would never end. Destroying it
      // drops those lines (the store has the events; this close reports the failure) and disarms the hook.
      this.#destination.destroy();
      throw error;
    }
  }

  private untilWritten(): Promise<void> {
    const destination = this.#destination;
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        destination.off('error', onError);
        resolve();
      };
      const onError = (error: Error): void => {
        destination.off('drain', onDrain);
        reject(error);
      };
      destination.once('drain', onDrain);
      destination.once('error', onError);
    });
  }

  private fsyncDestination(): Promise<void> {
    // sonic-boom keeps the descriptor in `fd` at runtime; its type declarations omit the field.
    const { fd } = this.#destination as unknown as { readonly fd: number };
    return new Promise((resolve, reject) => {
      fsync(fd, (error) => {
        if (error === null || UNSYNCABLE.has(error.code ?? '')) resolve();
        else reject(error);
      });
    });
  }
}
