// `jitgate audit verify`: re-walk the hash chain, through the API or, with --config, straight from the store
// (for an auditor who trusts the database file more than a running server). `audit search <text>`: recorded
// statements whose SQL contains the text, newest first, across sessions (auditor/admin).
import type { Command } from 'commander';
import { apiClientFor, print, printJson, withApiOptions } from '../context.js';
import { CliError, SilentExit, EXIT_FAILED } from '../errors.js';
import { loadConfigForCli } from '../load-config.js';
import { renderTable } from '../table.js';
import { statementSearchSchema, type StatementHit } from './review-schemas.js';
import { SEARCH_COLUMNS, searchRows } from './sessions-format.js';
import { countArgument } from './sessions.js';

interface SearchOptions {
  readonly session?: string;
  readonly grant?: string;
  readonly resource?: string;
  readonly user?: string;
  readonly limit: number;
  readonly json?: boolean;
}

/** What both paths report (docs/api.md `GET /v1/audit/verify`). */
export interface ChainVerdict {
  readonly ok: boolean;
  readonly events: number;
  readonly head?: { readonly seq: number; readonly hash: string } | null | undefined;
  readonly firstBroken?: { readonly seq: number; readonly id: string; readonly reason: string } | null | undefined;
}

export function describeVerdict(verdict: ChainVerdict): string {
  if (!verdict.ok) {
    const broken = verdict.firstBroken;
    return broken ? `audit chain BROKEN at event #${broken.seq} (${broken.id}): ${broken.reason}` : 'audit chain BROKEN';
  }
  const events = `${verdict.events} event${verdict.events === 1 ? '' : 's'}`;
  return verdict.head ? `audit chain OK: ${events}, head ${verdict.head.hash}` : `audit chain OK: ${events}`;
}

/**
 * Reads the chain straight from the store, read-only (never creating or migrating it). Loads only what offline
 * verification needs, and only when asked: a literal dynamic import is type-checked like a static one, but keeps the
 * store drivers (and better-sqlite3's native module) out of every other CLI command.
 */
async function verifyOffline(configPath: string): Promise<ChainVerdict> {
  const config = await loadConfigForCli(configPath);
  const [{ openChainReadOnly }, { verifyStoredChain }] = await Promise.all([import('./offline-chain.js'), import('../../audit/verify.js')]);
  const chain = await openChainReadOnly(config.store.url);
  let verdict: ChainVerdict;
  try {
    verdict = await verifyStoredChain(chain, { batchSize: 1_000 });
  } finally {
    await chain.close();
  }
  // Every started jitgate records events: an empty trail is the wrong store (or a wiped one), never "chain OK".
  if (verdict.ok && verdict.events === 0) throw new CliError(`store ${chain.label} holds no audit events: nothing to verify`);
  return verdict;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  withApiOptions(audit.command('verify'))
    .description('re-walk the hash chain and report the first break (exit 1 if broken)')
    .option('--config <file>', 'verify offline, reading the store named in this config instead of asking the server')
    .option('--json', 'print the result as JSON')
    .action(async (options: { readonly config?: string; readonly json?: boolean }, command: Command) => {
      const verdict = options.config === undefined ? await apiClientFor(command).verifyAudit() : await verifyOffline(options.config);
      if (options.json) printJson(verdict);
      else print(describeVerdict(verdict));
      if (!verdict.ok) throw new SilentExit(EXIT_FAILED);
    });

  withApiOptions(audit.command('search'))
    .description('recorded statements whose SQL contains <text> (case-insensitive), newest first')
    .argument('<text>', 'text to look for; % and _ match themselves')
    .option('--session <session>', 'only in this session')
    .option('--grant <grant>', 'only under this grant')
    .option('--resource <resource>', 'only on this resource')
    .option('--user <name>', 'only statements of this user')
    .option('--limit <n>', 'at most this many matches (0 for all)', countArgument, 100)
    .option('--json', 'print the matches as JSON')
    .action(async (text: string, options: SearchOptions, command: Command) => {
      const client = apiClientFor(command);
      const params = new URLSearchParams({ q: text });
      for (const key of ['session', 'grant', 'resource', 'user'] as const) {
        const value = options[key];
        if (value !== undefined) params.set(key, value);
      }
      const hits: StatementHit[] = [];
      let cursor: number | null | undefined;
      do {
        params.set('limit', String(options.limit === 0 ? 1_000 : Math.min(1_000, options.limit - hits.length)));
        if (cursor) params.set('cursor', String(cursor));
        const page = await client.call('GET', `v1/statements?${params.toString()}`, statementSearchSchema);
        hits.push(...page.statements);
        cursor = page.next;
      } while (cursor && (options.limit === 0 || hits.length < options.limit));
      if (options.json) printJson(hits);
      else if (hits.length === 0) print('no matching statements');
      else print(renderTable(SEARCH_COLUMNS, searchRows(hits)));
    });
}
