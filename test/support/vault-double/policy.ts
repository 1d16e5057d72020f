// ACL policies: the HCL subset `path "<glob>" { capabilities = [...] }` (with # and // comments), and Vault's
// evaluation: the rules of all a token's policies are merged (identical paths union their capabilities), the most
// specific matching rule decides, and `deny` beats everything. Globs: a trailing `*` (prefix match) and `+` (exactly
// one path segment). Root tokens skip all this.
import { failure, type Operation, type Reply } from './http.js';

export const CAPABILITIES = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface PolicyRule {
  readonly path: string;
  readonly capabilities: ReadonlySet<Capability>;
}

/** The default policy's part that matters to a database broker (VAULT.md §3). */
export const DEFAULT_POLICY = `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/lookup" { capabilities = ["update"] }
path "sys/renew" { capabilities = ["update"] }
`;

const isCapability = (text: string): text is Capability => (CAPABILITIES as readonly string[]).includes(text);

/** Parses the subset; a policy Vault would refuse is refused with its error shape (400). */
export function parsePolicy(text: string): PolicyRule[] | Reply {
  const source = text.replace(/(^|[^"])(#|\/\/)[^\n]*/g, '$1');
  const rules: PolicyRule[] = [];
  const block = /path\s+"([^"]*)"\s*\{([^}]*)\}/g;
  for (const match of source.matchAll(block)) {
    const path = match[1] ?? '';
    const list = /capabilities\s*=\s*\[([^\]]*)\]/.exec(match[2] ?? '');
    if (list === null) return failure(400, `failed to parse policy: path "${path}": missing capabilities`);
    const names = [...(list[1] ?? '').matchAll(/"([^"]*)"/g)].map((item) => item[1] ?? '');
    const unknown = names.find((name) => !isCapability(name));
    if (unknown !== undefined) return failure(400, `failed to parse policy: path "${path}": invalid capability "${unknown}"`);
    rules.push({ path, capabilities: new Set(names.filter(isCapability)) });
  }
  const leftover = source.replace(block, '').trim();
  if (leftover !== '' || (rules.length === 0 && source.trim() !== '')) {
    return failure(400, `failed to parse policy: unexpected text "${leftover.slice(0, 40)}"`);
  }
  return rules;
}

function matches(pattern: string, path: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('+')) return pattern === path;
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  const regex = body.split('+').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp(`^${regex}${prefix ? '.*' : ''}$`).test(path);
}

/** Vault's precedence: no wildcard first; then the later the first wildcard, not ending in `*`, fewer `+`, longer. */
function priority(pattern: string): number[] {
  const exact = !pattern.includes('*') && !pattern.includes('+');
  const firstWildcard = [pattern.indexOf('*'), pattern.indexOf('+')].filter((index) => index >= 0);
  return [exact ? 1 : 0, firstWildcard.length === 0 ? pattern.length : Math.min(...firstWildcard), pattern.endsWith('*') ? 0 : 1,
    -(pattern.split('+').length - 1), pattern.length];
}

function higher(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return false;
}

/** The capabilities the merged rules grant on `path`. */
export function capabilitiesOn(rules: readonly PolicyRule[], path: string): Set<Capability> {
  const merged = new Map<string, Set<Capability>>();
  for (const rule of rules) {
    const set = merged.get(rule.path) ?? new Set<Capability>();
    for (const capability of rule.capabilities) set.add(capability);
    merged.set(rule.path, set);
  }
  let best: { priority: number[]; capabilities: Set<Capability> } | undefined;
  for (const [pattern, capabilities] of merged) {
    if (!matches(pattern, path)) continue;
    const rank = priority(pattern);
    if (best === undefined || higher(rank, best.priority)) best = { priority: rank, capabilities };
  }
  const granted = best?.capabilities ?? new Set<Capability>();
  return granted.has('deny') ? new Set() : granted;
}

/** What an operation needs: writes accept create or update (the double does no existence check). */
export function allowed(capabilities: ReadonlySet<Capability>, operation: Operation, sudo: boolean): boolean {
  if (sudo && !capabilities.has('sudo')) return false;
  switch (operation) {
    case 'read': return capabilities.has('read');
    case 'list': return capabilities.has('list');
    case 'update': return capabilities.has('update') || capabilities.has('create');
    case 'delete': return capabilities.has('delete');
  }
}
