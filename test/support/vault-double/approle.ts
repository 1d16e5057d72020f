// AppRole (VAULT.md §1): role CRUD, role-id, secret-id, login. Login tokens are orphans with display name
// `approle`, the role's token_policies plus `default`, and the role's token_ttl / token_max_ttl / token_period.
import type { DoubleClock } from './clock.js';
import {
  booleanField, commaList, emptyRead, envelope, failure, listReply, noContent, stringField, unsupportedOperation, unsupportedPath,
  type DoubleRequest, type Reply,
} from './http.js';
import { newRoleId, newSecretAccessor, newSecretId, parseTtl } from './names.js';
import type { TokenStore } from './tokens.js';

interface AppRole {
  readonly name: string;
  readonly roleId: string;
  tokenTtl: number;
  tokenMaxTtl: number;
  tokenPeriod: number;
  tokenExplicitMaxTtl: number;
  tokenPolicies: string[];
  secretIdTtl: number;
  secretIdNumUses: number;
  bindSecretId: boolean;
}

interface SecretId {
  readonly role: string;
  readonly accessor: string;
  /** Double-clock ms; undefined = no end. */
  readonly expireAt: number | undefined;
  /** undefined = unlimited. */
  usesLeft: number | undefined;
}

const TTL_FIELDS = {
  token_ttl: 'tokenTtl', token_max_ttl: 'tokenMaxTtl', token_period: 'tokenPeriod', period: 'tokenPeriod',
  token_explicit_max_ttl: 'tokenExplicitMaxTtl', secret_id_ttl: 'secretIdTtl',
} as const;

export class AppRoleBackend {
  readonly #roles = new Map<string, AppRole>();
  readonly #secrets = new Map<string, SecretId>();

  constructor(private readonly mount: string, private readonly tokens: TokenStore, private readonly clock: DoubleClock) {}

  /** `rest` is the path under the mount: `login`, `role`, `role/<r>`, `role/<r>/role-id`, `role/<r>/secret-id`. */
  handle(request: DoubleRequest, rest: string): Reply {
    if (rest === 'login') return request.operation === 'update' ? this.#login(request) : unsupportedOperation();
    if (rest === 'role' || rest === 'role/') return request.operation === 'list' ? listReply([...this.#roles.keys()], 'approle') : unsupportedOperation();
    const match = /^role\/([\w.@-]+)(?:\/(role-id|secret-id))?$/.exec(rest);
    if (match === null) return unsupportedPath();
    const name = match[1] ?? '';
    switch (match[2]) {
      case 'role-id': return this.#roleId(request, name);
      case 'secret-id': return this.#secretId(request, name);
      default: return this.#role(request, name);
    }
  }

  #role(request: DoubleRequest, name: string): Reply {
    const role = this.#roles.get(name);
    switch (request.operation) {
      case 'read':
        return role === undefined ? emptyRead() : envelope({ data: describe(role), mountType: 'approle' });
      case 'delete':
        this.#roles.delete(name);
        return noContent();
      case 'list':
        return unsupportedOperation();
      case 'update': {
        const next: AppRole = role ?? {
          name, roleId: newRoleId(), tokenTtl: 0, tokenMaxTtl: 0, tokenPeriod: 0, tokenExplicitMaxTtl: 0, tokenPolicies: [],
          secretIdTtl: 0, secretIdNumUses: 0, bindSecretId: true,
        };
        for (const [field, key] of Object.entries(TTL_FIELDS)) {
          const seconds = parseTtl(request.body[field]);
          if (seconds === undefined) continue;
          if (Number.isNaN(seconds)) return failure(400, `invalid value for ${field}`);
          next[key] = seconds;
        }
        const policies = commaList(request.body.token_policies) ?? commaList(request.body.policies);
        if (policies !== undefined) next.tokenPolicies = policies;
        const uses = request.body.secret_id_num_uses;
        if (typeof uses === 'number') next.secretIdNumUses = uses;
        next.bindSecretId = booleanField(request.body, 'bind_secret_id') ?? next.bindSecretId;
        this.#roles.set(name, next);
        return noContent();
      }
    }
  }

  #roleId(request: DoubleRequest, name: string): Reply {
    if (request.operation !== 'read') return unsupportedOperation();
    const role = this.#roles.get(name);
    return role === undefined ? emptyRead() : envelope({ data: { role_id: role.roleId }, mountType: 'approle' });
  }

  #secretId(request: DoubleRequest, name: string): Reply {
    if (request.operation !== 'update') return unsupportedOperation();
    const role = this.#roles.get(name);
    if (role === undefined) return failure(400, `role "${name}" does not exist`);
    const id = newSecretId();
    const accessor = newSecretAccessor();
    const now = this.clock.now();
    this.#secrets.set(id, {
      role: name, accessor, expireAt: role.secretIdTtl > 0 ? now + role.secretIdTtl * 1000 : undefined,
      usesLeft: role.secretIdNumUses > 0 ? role.secretIdNumUses : undefined,
    });
    return envelope({
      data: { secret_id: id, secret_id_accessor: accessor, secret_id_ttl: role.secretIdTtl, secret_id_num_uses: role.secretIdNumUses },
      mountType: 'approle',
    });
  }

  #login(request: DoubleRequest): Reply {
    const roleId = stringField(request.body, 'role_id') ?? '';
    if (roleId === '') return failure(400, 'missing role_id');
    const role = [...this.#roles.values()].find((candidate) => candidate.roleId === roleId);
    if (role === undefined) return failure(400, 'invalid role or secret ID');
    if (role.bindSecretId) {
      const secretId = stringField(request.body, 'secret_id') ?? '';
      if (secretId === '') return failure(400, 'missing secret_id');
      const secret = this.#secrets.get(secretId);
      const expired = secret?.expireAt !== undefined && secret.expireAt <= this.clock.now();
      if (secret === undefined || secret.role !== role.name || expired || secret.usesLeft === 0) {
        if (expired) this.#secrets.delete(secretId);
        return failure(400, 'invalid role or secret ID');
      }
      if (secret.usesLeft !== undefined) secret.usesLeft -= 1;
    }
    const token = this.tokens.create({
      policies: [...new Set(['default', ...role.tokenPolicies])].sort(), displayName: this.mount.replace(/^auth\//, '').replace(/\/$/, ''),
      meta: { role_name: role.name }, path: `${this.mount}login`, ttl: role.tokenTtl, maxTtl: role.tokenMaxTtl, period: role.tokenPeriod,
      explicitMaxTtl: role.tokenExplicitMaxTtl, orphan: true, renewable: true, roleName: role.name,
    });
    return envelope({ auth: this.tokens.authBlock(token), mountType: 'approle' });
  }
}

function describe(role: AppRole): Record<string, unknown> {
  return {
    bind_secret_id: role.bindSecretId, secret_id_ttl: role.secretIdTtl, secret_id_num_uses: role.secretIdNumUses,
    token_ttl: role.tokenTtl, token_max_ttl: role.tokenMaxTtl, token_period: role.tokenPeriod, period: role.tokenPeriod,
    token_explicit_max_ttl: role.tokenExplicitMaxTtl, token_policies: role.tokenPolicies, policies: role.tokenPolicies,
    token_type: 'default', token_num_uses: 0, token_bound_cidrs: [], secret_id_bound_cidrs: [], local_secret_ids: false,
  };
}
