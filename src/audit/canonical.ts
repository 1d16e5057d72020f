// Canonical JSON: the exact bytes the audit hash covers, so the same event always hashes the same way on any
// machine and in any later version. Object keys are sorted by UTF-16 code unit (what Array.prototype.sort does, and
// what RFC 8785 specifies), no whitespace, `undefined` members omitted, numbers as JSON.stringify prints them.

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  /** Where the bad value sits, e.g. `$.error.code`; never the value itself, which might be a secret. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${problem} at ${path}`);
    this.path = path;
  }
}

/** Thrown by the fast pass, which keeps no path; the slow pass then finds where the problem is. */
class Unencodable extends Error {
  constructor(readonly problem: string) {
    super(problem);
  }
}

export function canonicalJson(value: unknown): string {
  try {
    return encodeValue(value, []);
  } catch (error) {
    if (!(error instanceof Unencodable)) throw error;
    throw new CanonicalJsonError(locateProblem(value, '$', []) ?? '$', error.problem);
  }
}

// This runs once per audited statement, so it tracks no paths and builds no intermediate strings per member.
function encodeValue(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // NaN and ±Infinity have no JSON form; JSON.stringify would silently print null and change the meaning.
      if (!Number.isFinite(value)) throw new Unencodable('non-finite number');
      return JSON.stringify(value);
    case 'object':
      return value === null ? 'null' : encodeObject(value, ancestors);
    default:
      // undefined here is a top-level value (members and array slots are handled by the callers); bigint, symbol
      // and function have no faithful JSON form either.
      throw new Unencodable(`unsupported ${typeof value}`);
  }
}

function encodeObject(value: object, ancestors: object[]): string {
  if (ancestors.includes(value)) throw new Unencodable('cycle');
  ancestors.push(value);
  try {
    if (Array.isArray(value)) return encodeArray(value, ancestors);
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      // Date, Secret and friends say how they want to look; anything else (Map, Buffer, class instances) would
      // print as `{}` or as internals, so it is refused rather than guessed.
      if (hasToJson(value)) return encodeValue(value.toJSON(), ancestors);
      throw new Unencodable('unsupported object');
    }
    return encodePlainObject(value as Record<string, unknown>, ancestors);
  } finally {
    ancestors.pop();
  }
}

function encodeArray(items: readonly unknown[], ancestors: object[]): string {
  let out = '[';
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (index > 0) out += ',';
    // A hole or undefined slot becomes null, as JSON.stringify does: dropping it would shift later positions.
    out += item === undefined ? 'null' : encodeValue(item, ancestors);
  }
  return `${out}]`;
}

function encodePlainObject(record: Record<string, unknown>, ancestors: object[]): string {
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${encodeValue(member, ancestors)}`;
  }
  return `${out}}`;
}

/** The path of the first value the fast pass refuses, walking in the same order; undefined when there is none. */
function locateProblem(value: unknown, path: string, ancestors: object[]): string | undefined {
  try {
    if (typeof value !== 'object' || value === null) {
      encodeValue(value, ancestors);
      return undefined;
    }
    if (ancestors.includes(value)) return path;
    if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
      return hasToJson(value) ? locateProblem(value.toJSON(), path, ancestors) : path;
    }
  } catch {
    return path;
  }
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const found = value[index] === undefined ? undefined : locateProblem(value[index], `${path}[${index}]`, ancestors);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record).sort()) {
      const found = record[key] === undefined ? undefined : locateProblem(record[key], `${path}.${key}`, ancestors);
      if (found !== undefined) return found;
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

function hasToJson(value: object): value is { toJSON(): unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}
