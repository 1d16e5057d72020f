// The canonical body of a `statement` event written member by member, in canonical (sorted) order: the one event
// type produced per audited statement skips the generic walk, key sort and redaction copy. It returns undefined
// for anything off the known shape (an unknown member, a wrong type, a non-finite number), and the caller then
// takes the generic path, which also names the problem. test/unit/statement-body.test.ts holds it to canonicalJson.
import { canonicalJson } from './canonical.js';
import type { AuditEvent } from './events.js';

export type StatementEvent = Extract<AuditEvent, { type: 'statement' }>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? JSON.stringify(value) : undefined);
const num = (value: unknown): string | undefined => (typeof value === 'number' && Number.isFinite(value) ? `${value}` : undefined);

/** `{"code":…,"message":…}` when the error has exactly those two string members. */
function errorMember(error: StatementEvent['error']): string | undefined {
  if (typeof error !== 'object' || error === null || countDefined(error) !== 2) return undefined;
  const code = str(error.code);
  const message = str(error.message);
  return code === undefined || message === undefined ? undefined : `{"code":${code},"message":${message}}`;
}

function truncatedMember(truncated: StatementEvent['truncated']): string | undefined {
  if (typeof truncated !== 'object' || truncated === null || countDefined(truncated) !== 2) return undefined;
  const length = num(truncated.length);
  const sha256 = str(truncated.sha256);
  return length === undefined || sha256 === undefined ? undefined : `{"length":${length},"sha256":${sha256}}`;
}

function paramsMember(params: StatementEvent['params']): string | undefined {
  if (!Array.isArray(params)) return undefined;
  for (const value of params) if (value !== null && typeof value !== 'string') return undefined;
  return canonicalJson(params);
}

function countDefined(record: object): number {
  let count = 0;
  for (const key in record) if ((record as Record<string, unknown>)[key] !== undefined) count++;
  return count;
}

/** Members in canonical order; `required` ones make the body undefined when missing. */
const MEMBERS: readonly { readonly key: keyof StatementEvent; readonly encode: (value: never) => string | undefined; readonly required: boolean }[] = [
  { key: 'bytes', encode: num, required: false },
  { key: 'duration_us', encode: num, required: true },
  { key: 'error', encode: errorMember, required: false },
  { key: 'grant', encode: str, required: true },
  { key: 'id', encode: str, required: true },
  { key: 'kind', encode: str, required: true },
  { key: 'params', encode: paramsMember, required: false },
  { key: 'portal', encode: str, required: false },
  { key: 'rows', encode: num, required: false },
  { key: 'seq', encode: num, required: true },
  { key: 'session', encode: str, required: true },
  { key: 'sql', encode: str, required: true },
  { key: 'started', encode: str, required: true },
  { key: 'statement_name', encode: str, required: false },
  { key: 'tag', encode: str, required: false },
  { key: 'truncated', encode: truncatedMember, required: false },
  { key: 'ts', encode: str, required: true },
  { key: 'type', encode: str, required: true },
];

/** The same string canonicalJson(event) gives, or undefined when the event is not of the known shape. */
export function canonicalStatementBody(event: StatementEvent): string | undefined {
  let out = '';
  let written = 0;
  for (const { key, encode, required } of MEMBERS) {
    const value = event[key];
    if (value === undefined) {
      if (required) return undefined;
      continue;
    }
    const encoded = (encode as (value: unknown) => string | undefined)(value);
    if (encoded === undefined) return undefined;
    out += `${written === 0 ? '{' : ','}"${key}":${encoded}`;
    written++;
  }
  // A member outside the known set would be missing from the body (and unredacted): the generic path handles it.
  return written === countDefined(event) ? `${out}}` : undefined;
}
