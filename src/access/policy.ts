// Policy evaluation: a pure decision over config and the request. Policies are tried in file order and the first one
// that matches resource, role and the requester's groups decides (like firewall rules: predictable, easy to review).
import type { Config, PolicyConfig, ResourceConfig, RoleConfig } from '../config/schema.js';
import { badRequest, forbidden, notFound, type AccessError } from './errors.js';
import type { Identity } from './identity.js';

/** DESIGN §7: ttl accepts durations from 5s up. */
export const MIN_GRANT_TTL_SECONDS = 5;

export interface GrantRequestInput {
  readonly resource: string;
  readonly role: string;
  /** Requested duration; undefined means `grants.default_ttl`. */
  readonly ttlSeconds: number | undefined;
  readonly reason: string;
}

export interface PolicyDecision {
  readonly policy: PolicyConfig;
  readonly resource: ResourceConfig;
  readonly role: RoleConfig;
  /** The requested ttl clamped to the policy's and the role's max_ttl. */
  readonly ttlSeconds: number;
  /** What was asked (grants.default_ttl when the request named none). */
  readonly requestedTtlSeconds: number;
  /** What cut the ttl short, so the requester can be told; null when granted as asked. */
  readonly ttlClamped: TtlClamp | null;
  readonly approvalsRequired: number;
  readonly approverGroups: readonly string[];
}

/** The limit a requested ttl ran into: the policy's max_ttl, or the role's when that is lower. */
export interface TtlClamp {
  readonly by: 'policy' | 'role';
  readonly name: string;
  readonly maxTtlSeconds: number;
}

const matches = (list: readonly string[], value: string): boolean => list.includes('*') || list.includes(value);

export function findResource(config: Config, name: string): ResourceConfig | undefined {
  return config.resources.find((resource) => resource.name === name);
}

export function evaluateGrantRequest(config: Config, requester: Identity, input: GrantRequestInput): PolicyDecision | AccessError {
  const resource = findResource(config, input.resource);
  if (!resource) return notFound(`unknown resource "${input.resource}"`);
  const role = resource.roles[input.role];
  if (!role) return notFound(`resource "${resource.name}" has no role "${input.role}"`);

  const policy = config.policies.find((candidate) =>
    matches(candidate.resources, resource.name)
    && matches(candidate.roles, input.role)
    && candidate.requesters.some((group) => requester.groups.includes(group)));
  if (!policy) return forbidden(`no policy lets "${requester.name}" request role "${input.role}" on "${resource.name}"`);

  if (policy.require_reason && input.reason.trim() === '') {
    return badRequest(`policy "${policy.name}" requires a reason`);
  }
  const requested = input.ttlSeconds ?? config.grants.default_ttl;
  if (requested < MIN_GRANT_TTL_SECONDS) return badRequest(`ttl must be at least ${MIN_GRANT_TTL_SECONDS}s`);

  const ttlSeconds = Math.min(requested, policy.max_ttl, role.max_ttl);
  const ttlClamped: TtlClamp | null = ttlSeconds === requested ? null
    : role.max_ttl < policy.max_ttl ? { by: 'role', name: input.role, maxTtlSeconds: role.max_ttl }
      : { by: 'policy', name: policy.name, maxTtlSeconds: policy.max_ttl };
  const ttl = { ttlSeconds, requestedTtlSeconds: requested, ttlClamped };
  if (policy.approval === 'auto') {
    return { policy, resource, role, ...ttl, approvalsRequired: 0, approverGroups: [] };
  }
  return { policy, resource, role, ...ttl, approvalsRequired: policy.approval.count, approverGroups: policy.approval.approvers };
}

/** Whether `identity` may approve or deny a grant whose policy names `approverGroups`. Self-approval is checked by the caller. */
export function canDecide(identity: Identity, approverGroups: readonly string[]): boolean {
  return approverGroups.some((group) => identity.groups.includes(group));
}
