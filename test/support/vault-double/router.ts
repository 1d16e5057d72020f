// One request through the double, in Vault's order (VAULT.md §0, §4): health needs nothing; a sealed Vault answers
// 503; login paths need no token; everything else needs a valid token (403) whose policies allow the operation on
// the path (403, sudo where Vault asks for it); then the mount's handler, or 404 "no handler for route".
import { AppRoleBackend } from './approle.js';
import type { DoubleClock } from './clock.js';
import { DatabaseBackend } from './database.js';
import {
  emptyRead, envelope, failure, listReply, multierror, noContent, noHandler, stringField, unsupportedOperation, wrapped,
  type DoubleRequest, type Operation, type Reply,
} from './http.js';
import type { LeaseStore } from './leases.js';
import { allowed, capabilitiesOn, DEFAULT_POLICY, parsePolicy, type PolicyRule } from './policy.js';
import type { TokenEntry, TokenStore } from './tokens.js';

export interface DoubleState {
  readonly clock: DoubleClock;
  readonly tokens: TokenStore;
  readonly leases: LeaseStore;
  /** name → [source text, parsed rules] */
  readonly policies: Map<string, { readonly text: string; readonly rules: readonly PolicyRule[] }>;
  /** `database/` → engine */
  readonly mounts: Map<string, DatabaseBackend>;
  /** `auth/approle/` → backend */
  readonly auths: Map<string, AppRoleBackend>;
  sealed: boolean;
  standby: boolean;
}

export function operationOf(method: string, query: URLSearchParams): Operation {
  if (method === 'LIST' || (method === 'GET' && ['true', '1'].includes(query.get('list') ?? ''))) return 'list';
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'DELETE') return 'delete';
  return 'update';
}

const SUDO_PATHS: readonly RegExp[] = [
  /^sys\/(leases\/)?revoke-(prefix|force)\//, /^sys\/auth\//, /^auth\/token\/create-orphan$/, /^sys\/leases(\/count)?$/,
];

function needsSudo(request: DoubleRequest): boolean {
  if (request.operation === 'list' && request.path.startsWith('sys/leases/lookup/')) return true;
  return SUDO_PATHS.some((pattern) => pattern.test(request.path));
}

export function initPolicies(state: DoubleState): void {
  const rules = parsePolicy(DEFAULT_POLICY);
  if (!Array.isArray(rules)) throw new Error('default policy does not parse');
  state.policies.set('default', { text: DEFAULT_POLICY, rules });
}

/** The token's verdict on the request: undefined when allowed, else the 403 reply. */
function authorize(state: DoubleState, request: DoubleRequest, token: TokenEntry): Reply | undefined {
  if (token.policies.includes('root')) return undefined;
  const rules = token.policies.flatMap((name) => state.policies.get(name)?.rules ?? []);
  const capabilities = capabilitiesOn(rules, request.path);
  return allowed(capabilities, request.operation, needsSudo(request)) ? undefined : wrapped(403, 'permission denied');
}

export async function route(state: DoubleState, request: DoubleRequest, tokenId: string | undefined): Promise<Reply> {
  const { path } = request;
  if (path === 'sys/health') return health(state, request);
  if (state.sealed) return failure(503, 'Vault is sealed');
  for (const [mount, backend] of state.auths) {
    if (path === `${mount}login`) return backend.handle(request, 'login');
  }
  if (tokenId === undefined || tokenId === '') return failure(403, 'permission denied');
  const token = state.tokens.find(tokenId);
  if (token === undefined) return failure(403, multierror(['permission denied', 'invalid token']));
  const denied = authorize(state, request, token);
  if (denied !== undefined) return denied;
  return dispatch(state, request, token);
}

async function dispatch(state: DoubleState, request: DoubleRequest, token: TokenEntry): Promise<Reply> {
  const { path } = request;
  const legacy = /^sys\/(renew|revoke|revoke-prefix|revoke-force)(\/.*)?$/.exec(path);
  if (legacy !== null) return state.leases.handle(request, `${legacy[1] ?? ''}${legacy[2] ?? ''}`);
  if (path === 'sys/leases') return state.leases.handle(request, '');
  if (path.startsWith('sys/leases/')) return state.leases.handle(request, path.slice('sys/leases/'.length));
  if (path.startsWith('sys/policies/acl') || path.startsWith('sys/policy')) return policies(state, request);
  if (path.startsWith('sys/mounts/') || path.startsWith('sys/auth/')) return mounts(state, request);
  if (path.startsWith('auth/token/')) return state.tokens.handle(request, token, path.slice('auth/token/'.length), token.policies.includes('root'));
  for (const [mount, backend] of state.auths) if (path.startsWith(mount)) return backend.handle(request, path.slice(mount.length));
  for (const [mount, backend] of state.mounts) if (path.startsWith(mount)) return backend.handle(request, path.slice(mount.length), token);
  return noHandler(path);
}

function health(state: DoubleState, request: DoubleRequest): Reply {
  const code = (name: string, fallback: number): number => {
    const value = Number(request.query.get(name) ?? Number.NaN);
    return Number.isInteger(value) ? value : fallback;
  };
  const standbyOk = ['true', '1', ''].includes(request.query.get('standbyok') ?? 'no');
  const status = state.sealed ? code('sealedcode', 503)
    : state.standby ? (standbyOk ? code('activecode', 200) : code('standbycode', 429)) : code('activecode', 200);
  return {
    status,
    body: {
      initialized: true, sealed: state.sealed, standby: state.standby && !state.sealed, performance_standby: false,
      replication_performance_mode: 'disabled', replication_dr_mode: 'disabled', server_time_utc: Math.floor(state.clock.now() / 1000),
      version: '1.21.4+double', cluster_name: 'vault-double', cluster_id: '00000000-0000-0000-0000-000000000000', enterprise: false,
    },
  };
}

function policies(state: DoubleState, request: DoubleRequest): Reply {
  const acl = request.path.startsWith('sys/policies/acl');
  const name = request.path.replace(/^sys\/(policies\/acl|policy)\/?/, '');
  if (name === '') {
    return request.operation === 'list' || request.operation === 'read'
      ? (acl ? listReply([...state.policies.keys(), 'root'], 'system') : envelope({ data: { policies: [...state.policies.keys(), 'root'] } }))
      : unsupportedOperation();
  }
  const existing = state.policies.get(name);
  switch (request.operation) {
    case 'read':
      if (existing === undefined) return emptyRead();
      return envelope({ data: acl ? { name, policy: existing.text } : { name, rules: existing.text }, mountType: 'system' });
    case 'delete':
      if (name === 'default' || name === 'root') return failure(400, `cannot delete "${name}" policy`);
      state.policies.delete(name);
      return noContent();
    case 'list':
      return unsupportedOperation();
    case 'update': {
      if (name === 'root') return failure(400, 'cannot update "root" policy');
      const text = stringField(request.body, 'policy') ?? stringField(request.body, 'rules') ?? '';
      const rules = parsePolicy(text);
      if (!Array.isArray(rules)) return rules;
      state.policies.set(name, { text, rules });
      return noContent();
    }
  }
}

async function mounts(state: DoubleState, request: DoubleRequest): Promise<Reply> {
  const auth = request.path.startsWith('sys/auth/');
  const where = request.path.replace(/^sys\/(mounts|auth)\//, '').replace(/\/?$/, '/');
  const key = auth ? `auth/${where}` : where;
  const taken = auth ? state.auths.has(key) : state.mounts.has(key);
  if (request.operation === 'delete') {
    if (!auth) {
      state.leases.forget(key);
      await state.mounts.get(key)?.close();
      state.mounts.delete(key);
    } else state.auths.delete(key);
    return noContent();
  }
  if (request.operation !== 'update') return unsupportedOperation();
  if (taken) return failure(400, `path is already in use at ${where}`);
  const type = stringField(request.body, 'type') ?? '';
  if (auth && type === 'approle') state.auths.set(key, new AppRoleBackend(key, state.tokens, state.clock));
  else if (!auth && type === 'database') state.mounts.set(key, new DatabaseBackend(key, state.clock, state.leases));
  else return failure(400, `plugin not found in the catalog: ${type}`);
  return noContent();
}
