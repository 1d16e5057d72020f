// Rules that span several parts of the config: names unique, policies pointing at real resources and roles,
// each role defined the way its resource's broker needs.
import { validateRoleTemplates } from '../credentials/builtin/templates.js';
import type { Config } from './schema.js';

export interface ConfigIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

export function crossCheck(config: Config, checks: { templates: boolean } = { templates: true }): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seenResources = new Set<string>();

  config.resources.forEach((resource, index) => {
    if (seenResources.has(resource.name)) issues.push({ path: ['resources', index, 'name'], message: `duplicate resource name "${resource.name}"` });
    seenResources.add(resource.name);

    if (resource.broker === 'builtin' && resource.admin === undefined) {
      issues.push({ path: ['resources', index, 'admin'], message: 'required when broker is builtin (the admin user creates and drops lease users)' });
    }
    if (resource.broker === 'vault' && config.brokers.vault === undefined) {
      issues.push({ path: ['resources', index, 'broker'], message: 'broker "vault" needs brokers.vault to be configured' });
    }
    // Templates are checked at load, so a typo like {{nmae}} fails `config check`, not a user's first connection.
    for (const problem of checks.templates ? validateRoleTemplates(resource) : []) {
      const prefix = `resource "${problem.resource}" role "${problem.role}" ${problem.field}: `;
      const text = problem.message.startsWith(prefix) ? problem.message.slice(prefix.length) : problem.message;
      issues.push({ path: ['resources', index, 'roles', problem.role, ...problem.field.split(/[[\]]/).filter(Boolean).map((part) => (/^\d+$/.test(part) ? Number(part) : part))], message: text });
    }
    for (const [roleName, role] of Object.entries(resource.roles)) {
      const rolePath = ['resources', index, 'roles', roleName];
      if (resource.broker === 'builtin' && role.creation_statements === undefined) {
        issues.push({ path: [...rolePath, 'creation_statements'], message: 'required with the builtin broker' });
      }
      if (resource.broker === 'vault' && role.vault_role === undefined) {
        issues.push({ path: [...rolePath, 'vault_role'], message: 'required with the vault broker' });
      }
    }
  });

  const seenKeys = new Set<string>();
  config.identities.api_keys.forEach((key, index) => {
    if (seenKeys.has(key.name)) issues.push({ path: ['identities', 'api_keys', index, 'name'], message: `duplicate API key name "${key.name}"` });
    seenKeys.add(key.name);
  });

  const seenPolicies = new Set<string>();
  config.policies.forEach((policy, index) => {
    if (seenPolicies.has(policy.name)) issues.push({ path: ['policies', index, 'name'], message: `duplicate policy name "${policy.name}"` });
    seenPolicies.add(policy.name);
    const matched = policy.resources.includes('*') ? config.resources : config.resources.filter((r) => policy.resources.includes(r.name));
    policy.resources.forEach((resourceName, resourceIndex) => {
      if (resourceName !== '*' && !seenResources.has(resourceName)) {
        issues.push({ path: ['policies', index, 'resources', resourceIndex], message: `unknown resource "${resourceName}"` });
      }
    });
    policy.roles.forEach((roleName, roleIndex) => {
      if (roleName !== '*' && matched.length > 0 && !matched.some((resource) => roleName in resource.roles)) {
        issues.push({ path: ['policies', index, 'roles', roleIndex], message: `no listed resource defines role "${roleName}"` });
      }
    });
    if (typeof policy.approval === 'object' && policy.approval.count > 1 && policy.approval.approvers.length === 0) {
      issues.push({ path: ['policies', index, 'approval', 'approvers'], message: 'must name at least one group' });
    }
  });
  return issues;
}
