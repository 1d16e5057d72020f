// The local copy of grant tokens. The server shows a token once, at request time, and keeps only verifiers;
// `jitgate connect` needs it later, so the CLI keeps it in a file only the user can read.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { connectionSchema, type Connection } from './api-schemas.js';
import { CliError } from './errors.js';

const cachedGrantSchema = z.object({
  token: z.string(),
  connection: connectionSchema,
  resource: z.string().optional(),
  role: z.string().optional(),
  savedAt: z.string(),
});
export type CachedGrant = z.output<typeof cachedGrantSchema>;

const cacheFileSchema = z.object({ version: z.literal(1), grants: z.record(z.string(), cachedGrantSchema) });
type CacheFile = z.output<typeof cacheFileSchema>;

/** `$XDG_CONFIG_HOME/jitgate/grants.json`, falling back to `~/.config` as the XDG base directory spec says. */
export function tokenCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'jitgate', 'grants.json');
}

export class TokenCache {
  constructor(readonly path: string = tokenCachePath()) {}

  async get(grantId: string): Promise<CachedGrant | undefined> {
    return (await this.read()).grants[grantId];
  }

  async remember(grantId: string, entry: { token: string; connection: Connection; resource?: string; role?: string }): Promise<void> {
    const file = await this.read();
    file.grants[grantId] = { ...entry, savedAt: new Date().toISOString() };
    await this.write(file);
  }

  /** Drops tokens of grants seen ended or denied: they can never log in again. Returns how many were removed. */
  async forget(grantIds: readonly string[]): Promise<number> {
    const file = await this.read();
    const present = grantIds.filter((id) => id in file.grants);
    if (present.length === 0) return 0;
    for (const id of present) delete file.grants[id];
    await this.write(file);
    return present.length;
  }

  /** Forgets whichever of these grants can no longer log in (denied or ended). */
  async forgetFinished(grants: readonly { readonly id: string; readonly state: string }[]): Promise<number> {
    return this.forget(grants.filter((grant) => grant.state === 'denied' || grant.state === 'ended').map((grant) => grant.id));
  }

  private async read(): Promise<CacheFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return { version: 1, grants: {} };
      throw new CliError(`cannot read token cache ${this.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = cacheFileSchema.safeParse(json);
    // Refuse rather than overwrite: rewriting a damaged file would silently lose the tokens still in it.
    if (!parsed.success) throw new CliError(`token cache ${this.path} is damaged; fix or remove it`);
    return parsed.data;
  }

  /** Written to a temp file and renamed, so a crash or a second CLI never leaves half a file behind. */
  private async write(file: CacheFile): Promise<void> {
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700);
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
