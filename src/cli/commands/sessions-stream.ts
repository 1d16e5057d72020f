// Responses the CLI reads as a stream rather than one JSON document: session exports (piped to stdout or a file)
// and server-sent events (`sessions show --follow`). Same address, key and error wording as ApiClient.
import type { Command } from 'commander';
import { ApiClient, ApiError } from '../api-client.js';
import { apiErrorBodySchema } from '../api-schemas.js';
import { resolveApiTarget } from '../context.js';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/** GET `path` (relative to the API root) with the caller's key; a non-2xx answer becomes an ApiError. */
export async function openStream(command: Command, path: string, accept: string, signal?: AbortSignal): Promise<Response> {
  const { url, apiKey, urlSource } = resolveApiTarget(command);
  const client = new ApiClient(url, apiKey, fetch, urlSource); // validates the address the same way every other command does
  const base = client.url;
  const headers: Record<string, string> = { accept };
  if (apiKey !== undefined && apiKey !== '') headers.authorization = `Bearer ${apiKey}`;
  let response: Response;
  try {
    response = await fetch(new URL(path, `${base}/`), { headers, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw client.unreachableError(error);
  }
  if (!response.ok) {
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const body = apiErrorBodySchema.safeParse(json);
    throw new ApiError(response.status, body.success ? body.data.error.code : 'http_error',
      body.success ? body.data.error.message : response.statusText || `HTTP ${response.status}`);
  }
  return response;
}

/**
 * The text/event-stream framing (WHATWG HTML §9.2): `field: value` lines, `data` lines joined by "\n", a blank line
 * ends an event, `:` lines are comments. Chunks may split lines, or characters, anywhere.
 */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const dispatch = (): SseEvent | undefined => {
    const out = data.length > 0 ? { event: event || 'message', data: data.join('\n'), id } : undefined;
    event = '';
    data = [];
    return out;
  };
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone "\r" at the end may be the first half of "\r\n": wait for the next chunk.
      if (!match || (!final && match[0] === '\r' && match.index === buffer.length - 1)) return;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      yield line;
    }
  };
  const consume = function* (line: string): Generator<SseEvent> {
    if (line === '') {
      const complete = dispatch();
      if (complete) yield complete;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) yield* consume(line);
  }
  buffer += decoder.decode();
  for (const line of lines(true)) yield* consume(line);
}
