// Server-sent events for a live session: new statement events as the audit trail stores them. The store is the source
// of truth (what a reviewer sees live is exactly what was recorded, on any instance sharing the store), so each open
// stream polls it by chain seq — one indexed query per stream every POLL_MS — instead of tapping the audit pipeline.
// Bounded: at most `maxStreams` at once (503 beyond), a page of events per poll, paused while the client is not
// reading, and every stream ends when its session does, when the client goes, or when the server closes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unavailable } from '../../access/errors.js';
import type { SessionRecord, Store, StoredAuditEvent } from '../../store/store.js';

export interface SseMessage {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

export interface StreamOptions {
  /** Stream events with a chain seq above this. */
  readonly afterSeq: number;
  /** The message for one stored event of the session, or undefined to skip it. */
  readonly render: (event: StoredAuditEvent) => SseMessage | undefined;
  /** Extra response headers (the UI adds its security headers). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SessionStreamLimits {
  readonly pollMs?: number;
  readonly maxStreams?: number;
  readonly keepAliveMs?: number;
}

const PAGE = 500;
/** An idle stream re-reads the session row every this many polls, in case its `session.ended` event is behind the cursor. */
const RECORD_CHECK_EVERY = 8;

/** One message in the text/event-stream framing; every line of `data` gets its own `data:` field. */
export function formatSse(message: SseMessage): string {
  const id = message.id === undefined ? '' : `id: ${message.id.replace(/[\r\n]/g, '')}\n`;
  const data = message.data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('');
  return `${id}event: ${message.event.replace(/[\r\n]/g, '')}\n${data}\n`;
}

/** Where a stream starts: `Last-Event-ID` (a reconnecting EventSource) wins over `?after=`, else "from now". */
export function resumeSeq(request: FastifyRequest, after: number | undefined): number | undefined {
  const header = request.headers['last-event-id'];
  const text = Array.isArray(header) ? header[0] : header;
  if (text !== undefined && /^\d{1,15}$/.test(text)) return Number(text);
  return after;
}

export class SessionStreams {
  readonly #store: Pick<Store, 'readSessionEvents' | 'getSession'>;
  readonly #pollMs: number;
  readonly #maxStreams: number;
  readonly #keepAliveMs: number;
  readonly #open = new Set<() => void>();

  constructor(store: Pick<Store, 'readSessionEvents' | 'getSession'>, limits: SessionStreamLimits = {}) {
    this.#store = store;
    this.#pollMs = limits.pollMs ?? 250;
    this.#maxStreams = limits.maxStreams ?? 64;
    this.#keepAliveMs = limits.keepAliveMs ?? 15_000;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Takes the reply over and streams until the session ends or either side goes away. */
  open(reply: FastifyReply, session: SessionRecord, options: StreamOptions): void {
    if (this.#open.size >= this.#maxStreams) throw unavailable('too many live streams are open; try again shortly');
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // a buffering reverse proxy would hold events back
      ...options.headers,
    });
    raw.write(`retry: 2000\n\n`);

    let lastSeq = options.afterSeq;
    let polls = 0;
    let lastWrite = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      this.#open.delete(close);
      raw.end();
    };
    const send = (message: SseMessage): void => {
      raw.write(formatSse(message));
      lastWrite = Date.now();
    };
    const finish = (reason: string | null): void => {
      send({ event: 'end', data: JSON.stringify({ session: session.id, reason }) });
      close();
    };
    const tick = async (): Promise<void> => {
      if (closed) return;
      let full = false;
      try {
        if (raw.writableNeedDrain) {
          await new Promise<void>((resolve) => raw.once('drain', resolve).once('close', resolve));
          if (closed) return;
        }
        const events = await this.#store.readSessionEvents(session.id, lastSeq, PAGE);
        if (closed) return;
        full = events.length === PAGE;
        for (const event of events) {
          lastSeq = event.seq;
          if (event.type === 'session.ended') return finish(endReasonOf(event));
          const message = options.render(event);
          if (message) send(message);
        }
        if (events.length === 0 && polls++ % RECORD_CHECK_EVERY === 0) {
          const record = await this.#store.getSession(session.id);
          if (record?.endedAt != null) return finish(record.endReason);
        }
        if (Date.now() - lastWrite >= this.#keepAliveMs) {
          raw.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      } catch {
        send({ event: 'error', data: JSON.stringify({ message: 'the audit store could not be read; reconnect to resume' }) });
        return close();
      }
      if (!closed) timer = setTimeout(() => void tick(), full ? 0 : this.#pollMs);
    };
    this.#open.add(close);
    // The response's 'close' is the one that means "the client went away" (the request's fires once it is read).
    raw.on('close', close);
    void tick();
  }

  /** Server shutdown: end every stream, or the HTTP server would wait for them forever. */
  closeAll(): void {
    for (const close of [...this.#open]) close();
  }
}

function endReasonOf(event: StoredAuditEvent): string | null {
  try {
    const body: unknown = JSON.parse(event.body);
    if (typeof body === 'object' && body !== null && 'reason' in body && typeof body.reason === 'string') return body.reason;
  } catch {
    // fall through: the stream still ends, without a reason
  }
  return null;
}
