// `${env:NAME}`, `${env:NAME:-default}` and `${file:/path}` in any string of the config tree, resolved before
// validation so that secrets never have to sit in the file itself.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const REFERENCE = /\$\{(env|file):([^}]*)\}/g;

export interface InterpolationContext {
  readonly env: NodeJS.ProcessEnv;
  /** Directory relative `${file:…}` paths are resolved against (the config file's directory). */
  readonly baseDir: string;
}

export interface InterpolationIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

function resolveReference(kind: string, body: string, context: InterpolationContext): string {
  if (kind === 'env') {
    const separator = body.indexOf(':-');
    const variable = separator === -1 ? body : body.slice(0, separator);
    const fallback = separator === -1 ? undefined : body.slice(separator + 2);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new Error(`invalid environment variable name "${variable}"`);
    const value = context.env[variable];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new Error(`environment variable ${variable} is not set`);
  }
  const path = resolve(context.baseDir, body);
  try {
    // Read once at load time, before any listener exists; PEM files and secrets keep their exact bytes but a
    // trailing newline, which editors add and nobody means.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new Error(`cannot read file ${path} (${code})`);
  }
}

/** Returns a copy of the tree with every reference replaced; problems are collected with their paths. */
export function interpolate(tree: unknown, context: InterpolationContext, issues: InterpolationIssue[], path: (string | number)[] = []): unknown {
  if (typeof tree === 'string') {
    try {
      return tree.replace(REFERENCE, (_whole, kind: string, body: string) => resolveReference(kind, body, context));
    } catch (error) {
      issues.push({ path, message: error instanceof Error ? error.message : String(error) });
      return tree;
    }
  }
  if (Array.isArray(tree)) return tree.map((item, index) => interpolate(item, context, issues, [...path, index]));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(tree)) out[key] = interpolate(value, context, issues, [...path, key]);
    return out;
  }
  return tree;
}
