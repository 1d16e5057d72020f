// `jitgate grants`, `approve`, `deny`, `revoke` and `resources`: reading and deciding grants.
import { Option, type Command } from 'commander';
import { formatDuration } from '../../config/duration.js';
import { GRANT_STATES, type Grant, type GrantStateName, type ResourceInfo } from '../api-schemas.js';
import { apiClientFor, print, printJson, warn, withApiOptions } from '../context.js';
import { describeGrantExpiry, describeGrantState } from '../format.js';
import { renderTable } from '../table.js';
import { TokenCache } from '../token-cache.js';

const GRANT_COLUMNS = [
  { header: 'ID' }, { header: 'RESOURCE' }, { header: 'ROLE' }, { header: 'REQUESTER' }, { header: 'STATE' },
  { header: 'EXPIRES' }, { header: 'REASON', maxWidth: 60 },
] as const;

export function grantRows(grants: readonly Grant[], now: Date): string[][] {
  return grants.map((grant) => [
    grant.id, grant.resource, grant.role, grant.requester, describeGrantState(grant), describeGrantExpiry(grant, now), grant.reason ?? '',
  ]);
}

export function resourceRows(resources: readonly ResourceInfo[]): string[][] {
  return resources.map((resource) => [
    resource.name,
    resource.protocol,
    resource.database ?? '',
    resource.roles.map((role) => ('max_ttl' in role && role.max_ttl !== undefined ? `${role.name} (${ttlText(role.max_ttl)})` : role.name)).join(', '),
  ]);
}

/** The API may give max_ttl as seconds or as the config's text; either reads as "8h". */
const ttlText = (ttl: string | number): string => (typeof ttl === 'number' ? formatDuration(ttl) : ttl);

/** Tokens of denied and ended grants are useless; tidy them away whenever the CLI sees such a grant. */
async function forgetFinished(grants: readonly Grant[]): Promise<void> {
  try {
    await new TokenCache().forgetFinished(grants);
  } catch (error) {
    warn(`warning: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function printGrantResult(grant: Grant, json: boolean | undefined): void {
  if (json) printJson(grant);
  else print(`${grant.id}: ${describeGrantState(grant)}`);
}

interface ListOptions {
  readonly state?: GrantStateName;
  readonly json?: boolean;
}

interface DecisionOptions {
  readonly comment?: string;
  readonly json?: boolean;
}

export function registerGrants(program: Command): void {
  withApiOptions(program.command('grants'))
    .description('list the grants you may see (your own; all of them as approver, auditor or admin)')
    .addOption(new Option('--state <state>', 'only grants in this state').choices(GRANT_STATES))
    .option('--json', 'print the grants as JSON')
    .action(async (options: ListOptions, command: Command) => {
      const grants = await apiClientFor(command).listGrants(options.state);
      await forgetFinished(grants);
      if (options.json) printJson(grants);
      else if (grants.length === 0) print(options.state === undefined ? 'no grants' : `no ${options.state} grants`);
      else print(renderTable(GRANT_COLUMNS, grantRows(grants, new Date())));
    });

  for (const decision of ['approve', 'deny'] as const) {
    withApiOptions(program.command(decision))
      .description(decision === 'approve' ? 'approve a pending grant (not your own)' : 'deny a pending grant')
      .argument('<grant>', 'grant id (g_…)')
      .option('--comment <text>', 'shown to the requester and kept in the audit trail')
      .option('--json', 'print the grant as JSON')
      .action(async (id: string, options: DecisionOptions, command: Command) => {
        const grant = await apiClientFor(command).decideGrant(id, decision, options.comment);
        await forgetFinished([grant]);
        printGrantResult(grant, options.json);
      });
  }

  withApiOptions(program.command('revoke'))
    .description('end a grant now: its sessions are closed and its database user dropped')
    .argument('<grant>', 'grant id (g_…)')
    .option('--json', 'print the grant as JSON')
    .action(async (id: string, options: { readonly json?: boolean }, command: Command) => {
      const grant = await apiClientFor(command).revokeGrant(id);
      await forgetFinished([grant]);
      printGrantResult(grant, options.json);
    });

  withApiOptions(program.command('resources'))
    .description('list the databases you can request access to, with their roles')
    .option('--json', 'print the resources as JSON')
    .action(async (options: { readonly json?: boolean }, command: Command) => {
      const resources = await apiClientFor(command).listResources();
      if (options.json) printJson(resources);
      else if (resources.length === 0) print('no resources');
      else print(renderTable([{ header: 'NAME' }, { header: 'PROTOCOL' }, { header: 'DATABASE' }, { header: 'ROLES' }], resourceRows(resources)));
    });
}
