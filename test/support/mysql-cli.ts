// MySQL/MariaDB admin statements through the `mariadb` (or `mysql`) command-line client: the test bootstrap needs no
// Node MySQL driver. The password travels in MYSQL_PWD, never on the command line where `ps` would show it.
import { execFile } from 'node:child_process';

export interface MysqlTarget {
  readonly user: string;
  readonly password: string;
  /** Unix socket; when absent, TCP to host:port. */
  readonly socket?: string;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
}

export function mysqlTargetFromUrl(url: string): MysqlTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') throw new Error(`not a mysql:// URL: ${parsed.protocol}`);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return {
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    host: parsed.hostname,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    ...(database === '' ? {} : { database }),
  };
}

function clientArgs(target: MysqlTarget, sqlText: string): string[] {
  const args = ['--no-defaults', '--batch', '--skip-column-names', `--user=${target.user}`, '--connect-timeout=5'];
  if (target.socket !== undefined) args.push('--protocol=SOCKET', `--socket=${target.socket}`);
  else args.push('--protocol=TCP', `--host=${target.host ?? '127.0.0.1'}`, `--port=${target.port ?? 3306}`);
  if (target.database !== undefined) args.push(`--database=${target.database}`);
  args.push('--execute', sqlText);
  return args;
}

function run(client: string, args: readonly string[], password: string): Promise<string> {
  const env = { ...process.env };
  if (password === '') delete env.MYSQL_PWD;
  else env.MYSQL_PWD = password;
  return new Promise((resolve, reject) => {
    execFile(client, args, { env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(Object.assign(new Error(`${client}: ${stderr.trim() || error.message}`), { code: error.code }));
    });
  });
}

/** Runs `sqlText` and returns the tab-separated output rows (no header). */
export async function runMysql(target: MysqlTarget, sqlText: string): Promise<string[]> {
  const args = clientArgs(target, sqlText);
  let stdout: string;
  try {
    stdout = await run('mariadb', args, target.password);
  } catch (error) {
    // Older or MySQL-branded installs ship only `mysql`.
    if (!(error instanceof Error && 'code' in error && error.code === 'ENOENT')) throw error;
    stdout = await run('mysql', args, target.password);
  }
  return stdout.split('\n').filter((line) => line !== '');
}

/** A quoted string literal for the statements above (inputs are ours, but quoting keeps them honest). */
export const mysqlString = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
