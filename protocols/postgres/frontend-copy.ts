// (F) COPY FROM STDIN sub-protocol: CopyData 'd', CopyDone 'c', CopyFail 'f' (protocol docs §55.2.6). The tap
// normally only counts CopyData; the decoder exists for the rare caller that looks inside.
import { ByteReader } from '../shared/byte-reader.js';

export interface CopyData {
  readonly type: 'copy_data';
  /** A view into the message body. */
  readonly data: Uint8Array;
}

export interface CopyDone {
  readonly type: 'copy_done';
}

export interface CopyFail {
  readonly type: 'copy_fail';
  readonly message: string;
}

export type FrontendCopyMessage = CopyData | CopyDone | CopyFail;

export function decodeCopyData(body: Uint8Array): CopyData {
  return { type: 'copy_data', data: body };
}

const COPY_DONE: CopyDone = Object.freeze({ type: 'copy_done' });

export function decodeCopyDone(body: Uint8Array): CopyDone {
  new ByteReader(body).expectEnd('CopyDone');
  return COPY_DONE;
}

export function decodeCopyFail(body: Uint8Array): CopyFail {
  const reader = new ByteReader(body);
  const message = reader.readCString('CopyFail message');
  reader.expectEnd('CopyFail');
  return { type: 'copy_fail', message };
}
