// Loading a config: YAML → ${…} interpolation → zod validation → cross checks. Every problem is reported with
// its exact path (`resources[1].roles.ro.max_ttl: expected duration like "30m"`), all at once.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { crossCheck } from './cross-check.js';
import { interpolate, type InterpolationIssue } from './interpolate.js';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`invalid config ${source}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `['resources', 1, 'roles', 'ro', 'max_ttl']` → `resources[1].roles.ro.max_ttl`. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Shown in error messages; also the base for relative `${file:…}` paths when given as a file path. */
  readonly source?: string;
  readonly baseDir?: string;
  /**
   * Leave role templates unchecked (they are then checked at issue time instead). Only for tools and tests that
   * must build a config holding a broken template on purpose.
   */
  readonly skipTemplateCheck?: boolean;
}

export function parseConfigText(text: string, options: LoadOptions = {}): Config {
  const source = options.source ?? '<config>';
  // With prettyErrors off, yaml leaves `linePos` unset; a LineCounter turns each error's offset into line/column.
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (document.errors.length > 0) {
    throw new ConfigError(source, document.errors.map((error) => {
      const line = lineCounter.linePos(error.pos[0]);
      return `line ${line.line}, column ${line.col}: ${error.message.split('\n')[0] ?? 'YAML syntax error'}`;
    }));
  }
  const raw: unknown = document.toJS() ?? {};
  const issues: InterpolationIssue[] = [];
  const resolved = interpolate(raw, { env: options.env ?? process.env, baseDir: options.baseDir ?? process.cwd() }, issues);
  if (issues.length > 0) throw new ConfigError(source, issues.map((issue) => `${formatConfigPath(issue.path)}: ${issue.message}`));

  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) {
    throw new ConfigError(source, parsed.error.issues.map((issue) => `${formatConfigPath(issue.path)}: ${describeIssue(issue)}`));
  }
  const problems = crossCheck(parsed.data, { templates: options.skipTemplateCheck !== true });
  if (problems.length > 0) throw new ConfigError(source, problems.map((issue) => `${formatConfigPath(issue.path)}: ${issue.message}`));
  return parsed.data;
}

interface ZodIssueLike {
  readonly code: string;
  readonly message: string;
  readonly keys?: readonly string[];
  readonly issues?: readonly { readonly message: string }[];
}

function describeIssue(issue: ZodIssueLike): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  // A bad record key (a role name) carries the key schema's own message underneath zod's generic "Invalid key in record".
  if (issue.code === 'invalid_key' && issue.issues?.[0]) return issue.issues[0].message;
  return issue.message;
}

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ConfigError(path, [`cannot read config file (${code})`]);
  }
  return parseConfigText(text, { env, source: path, baseDir: dirname(absolute) });
}
