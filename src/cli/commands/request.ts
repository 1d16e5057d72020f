// `jitgate request`: ask for a grant, show the token once, keep it for `connect`, optionally wait for a decision.
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import type { CreatedGrant, Grant } from '../api-schemas.js';
import { durationSeconds, durationText } from '../arguments.js';
import { apiClientFor, print, printJson, warn, withApiOptions } from '../context.js';
import { CliError } from '../errors.js';
import { describeGrantState, describeTime, formatSpan } from '../format.js';
import { renderFields } from '../table.js';
import { TokenCache } from '../token-cache.js';

interface RequestOptions {
  readonly role: string;
  readonly ttl?: string;
  readonly reason?: string;
  readonly wait?: boolean;
  readonly waitTimeout: number;
  readonly json?: boolean;
}

const POLL_INTERVAL_MS = 1_000;

export function registerRequest(program: Command): void {
  withApiOptions(program.command('request'))
    .description('ask for a grant: a role on a resource for a limited time')
    .argument('<resource>', 'resource name (see `jitgate resources`)')
    .requiredOption('--role <role>', 'role on the resource, e.g. readonly')
    .option('--ttl <duration>', 'how long, e.g. 30m (default: the server\'s default; capped by policy and role max_ttl)', durationText)
    .option('--reason <text>', 'why you need it (some policies require a reason)')
    .option('--wait', 'wait until the grant is approved or denied (exit 1 if denied)')
    .addOption(new Option('--wait-timeout <duration>', 'how long --wait waits').argParser(durationSeconds).default(600, '10m'))
    .option('--json', 'print {id, state, expiresAt, token, connection} as JSON')
    .action(async (resource: string, options: RequestOptions, command: Command) => {
      const client = apiClientFor(command);
      const created = await client.createGrant({
        resource,
        role: options.role,
        ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      const clamp = clampNotice(created, options.ttl !== undefined);
      if (clamp !== undefined) warn(clamp);
      const cache = new TokenCache();
      const saved = await saveToken(cache, created);
      if (!options.json) printCreated(created, saved ? cache.path : undefined, options.wait === true);

      let current: Grant = created;
      if (options.wait && current.state === 'pending') {
        if (!options.json) warn(`waiting up to ${formatSpan(options.waitTimeout)} for a decision on ${created.id} …`);
        current = await waitForDecision(client, created.id, options.waitTimeout * 1000);
        await cache.forgetFinished([current]).catch(() => 0);
      }
      if (options.json) printJson(requestJson(created, current));
      else if (current !== created) print(`${current.id}: ${describeGrantState(current)}, expires ${describeTime(current.expiresAt, new Date())}`);
      if (options.wait) failUnlessUsable(current);
    });
}

/** The `request --json` contract (DESIGN §7): exactly these fields, state and expiry as last seen. */
export function requestJson(created: CreatedGrant, current: Grant) {
  return { id: created.id, state: current.state, expiresAt: current.expiresAt, token: created.token, connection: created.connection };
}

/** `ttl 9h clamped to 8h by policy dev-readonly`: a shorter grant than asked is said, never granted silently. */
export function clampNotice(created: CreatedGrant, ttlGiven: boolean): string | undefined {
  const clamp = created.ttlClamped;
  if (clamp === undefined || clamp === null || created.requestedTtlSeconds === undefined) return undefined;
  const asked = `${ttlGiven ? 'ttl' : 'default ttl'} ${formatSpan(created.requestedTtlSeconds)}`;
  return `${asked} clamped to ${formatSpan(clamp.maxTtlSeconds)} by ${clamp.by === 'policy' ? `policy ${clamp.name}` : `role ${clamp.name}'s max_ttl on ${created.resource}`}`;
}

async function saveToken(cache: TokenCache, created: CreatedGrant): Promise<boolean> {
  try {
    await cache.remember(created.id, { token: created.token, connection: created.connection, resource: created.resource, role: created.role });
    return true;
  } catch (error) {
    // The grant exists and its token is printed below: a cache problem must not turn that into a failure.
    warn(`warning: could not save the token for \`jitgate connect\`: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

function printCreated(created: CreatedGrant, cachePath: string | undefined, waiting: boolean): void {
  const now = new Date();
  const ttl = created.ttlSeconds === undefined ? [] : [['ttl', `${formatSpan(created.ttlSeconds)}${created.state === 'pending' ? ' once approved' : ''}`] as const];
  const kept = cachePath === undefined ? 'copy it now' : `kept in ${cachePath} for \`jitgate connect ${created.id}\``;
  print(`grant ${created.id}: ${created.role} on ${created.resource}`);
  print(renderFields([
    ['state', describeGrantState(created)],
    // A pending grant's expiry is when the request lapses; approval sets the real end (approval time + ttl).
    ['expires', `${describeTime(created.expiresAt, now)}${created.state === 'pending' ? ' unless approved' : ''}`],
    ...ttl,
    ['token', `${created.token}\nshown once: the server keeps only a verifier; ${kept}`],
    ['url', created.connection.url],
  ]));
  if (created.state === 'pending' && !waiting) print(`needs approval: an approver runs \`jitgate approve ${created.id}\` (or re-run with --wait)`);
}

async function waitForDecision(client: ApiClient, id: string, timeoutMs: number): Promise<Grant> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
    const grant = await client.getGrant(id);
    if (grant.state !== 'pending' || Date.now() >= deadline) return grant;
  }
}

/** `--wait` exits 0 only when the grant can be used: approved or already active. */
function failUnlessUsable(grant: Grant): void {
  switch (grant.state) {
    case 'approved':
    case 'active':
      return;
    case 'pending':
      throw new CliError(`${grant.id} is still pending; gave up waiting`);
    case 'denied': {
      const comment = grant.denials?.find((denial) => denial.comment)?.comment;
      throw new CliError(`${grant.id} was denied${comment ? `: ${comment}` : ''}`);
    }
    case 'ended':
      throw new CliError(`${grant.id} ended (${grant.endReason ?? 'unknown reason'})`);
  }
}
