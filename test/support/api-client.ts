// A tiny HTTP client for API tests: real requests over the loopback, JSON bodies, the caller named by test key.
import { TEST_KEYS, type TestKeyName } from './test-config.js';

export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export function apiAs(baseUrl: string, who: TestKeyName | { bearer: string } | null) {
  const headers = (): Record<string, string> => {
    const out: Record<string, string> = { 'content-type': 'application/json' };
    if (who === null) return out;
    out.authorization = `Bearer ${typeof who === 'string' ? TEST_KEYS[who] : who.bearer}`;
    return out;
  };
  const call = async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const init: RequestInit = { method, headers: headers() };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(`${baseUrl}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown = {}) => call('POST', path, body),
  };
}
