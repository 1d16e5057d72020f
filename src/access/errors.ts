// Access decisions that refuse a caller. The API maps `code` to an HTTP status in one place (src/api/errors.ts).
export type AccessErrorCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'unavailable';

export class AccessError extends Error {
  constructor(readonly code: AccessErrorCode, message: string) {
    super(message);
    this.name = 'AccessError';
  }
}

export const badRequest = (message: string): AccessError => new AccessError('bad_request', message);
export const forbidden = (message: string): AccessError => new AccessError('forbidden', message);
export const notFound = (message: string): AccessError => new AccessError('not_found', message);
export const conflict = (message: string): AccessError => new AccessError('conflict', message);
export const unavailable = (message: string): AccessError => new AccessError('unavailable', message);
