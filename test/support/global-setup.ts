// Decides once per run where the integration suites find PostgreSQL and MariaDB (DESIGN §9): the URLs in
// JITGATE_TEST_PG_URL / JITGATE_TEST_MYSQL_URL, else throwaway servers from the system binaries (both started in
// parallel), else a loud failure naming what is missing. Tests read the admin URLs with inject() (databases.ts).
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { mysqlTargetFromUrl } from './mysql-cli.js';
import { canQuery, findMariadbBinaries, startThrowawayMariadb } from './servers/mariadb.js';
import { canLogIn, findPostgresBinDir, startThrowawayPostgres } from './servers/postgres.js';
import { externalServer, type TestServer } from './servers/test-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL: postgres://postgres:…@127.0.0.1:<port>/postgres. */
    pgAdminUrl: string;
    /** Root URL of the run's MariaDB/MySQL: mysql://root:…@127.0.0.1:<port>/test. */
    mysqlAdminUrl: string;
    /** Server logs of throwaway servers, for tests that assert on what the server saw (null when given by URL). */
    pgLogPath: string | null;
    mysqlLogPath: string | null;
  }
}

// Docker is the third choice in DESIGN §9; testcontainers is not a dependency yet, so say so rather than skip.
const dockerAnswers = (): boolean => existsSync('/var/run/docker.sock') || process.env.DOCKER_HOST !== undefined;
const noDockerSupport = (what: string, variable: string): Error => new Error(
  `no ${what}: a Docker engine is present, but the testcontainers fallback is not implemented; `
  + `set ${variable} or install the ${what} server binaries`);

/** A server given by URL must answer now: a typo should fail the run here, not as fifty connection errors later. */
async function checkedExternal(variable: string, url: string, answers: (url: string) => Promise<boolean>): Promise<TestServer> {
  if (!(await answers(url))) throw new Error(`${variable} is set, but that server does not accept the login`);
  return externalServer(url);
}

function obtainPostgres(): Promise<TestServer> {
  const url = process.env.JITGATE_TEST_PG_URL;
  if (url !== undefined && url !== '') return checkedExternal('JITGATE_TEST_PG_URL', url, canLogIn);
  const binDir = findPostgresBinDir();
  if (binDir !== undefined) return startThrowawayPostgres(binDir);
  if (dockerAnswers()) return Promise.reject(noDockerSupport('PostgreSQL', 'JITGATE_TEST_PG_URL'));
  return Promise.reject(new Error(
    'no PostgreSQL: set JITGATE_TEST_PG_URL or install PostgreSQL binaries (initdb and postgres under /usr/lib/postgresql/<major>/bin)'));
}

function obtainMysql(): Promise<TestServer> {
  const url = process.env.JITGATE_TEST_MYSQL_URL;
  if (url !== undefined && url !== '') {
    return checkedExternal('JITGATE_TEST_MYSQL_URL', url, (given) => canQuery(mysqlTargetFromUrl(given)));
  }
  const binaries = findMariadbBinaries();
  if (binaries !== undefined) return startThrowawayMariadb(binaries);
  if (dockerAnswers()) return Promise.reject(noDockerSupport('MySQL', 'JITGATE_TEST_MYSQL_URL'));
  return Promise.reject(new Error(
    'no MySQL: set JITGATE_TEST_MYSQL_URL or install MariaDB binaries (mariadb-install-db and mariadbd)'));
}

/** Resolves to the server and how long obtaining it took, for the one line the setup prints. */
async function timed(obtain: () => Promise<TestServer>): Promise<{ server: TestServer; ms: number }> {
  const startedAt = performance.now();
  const server = await obtain();
  return { server, ms: Math.round(performance.now() - startedAt) };
}

const describeServer = (name: string, { server, ms }: { server: TestServer; ms: number }): string =>
  `${name} ${server.logPath === null ? 'from env' : 'throwaway'} (${ms} ms)`;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pg, mysql] = await Promise.allSettled([timed(obtainPostgres), timed(obtainMysql)]);
  if (pg.status === 'rejected' || mysql.status === 'rejected') {
    const started = [pg, mysql].flatMap((result) => (result.status === 'fulfilled' ? [result.value.server] : []));
    await Promise.all(started.map((server) => server.stop()));
    const reasons = [pg, mysql].flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    throw new Error(`test servers unavailable:\n${reasons.join('\n')}`);
  }
  const pgServer = pg.value.server;
  const mysqlServer = mysql.value.server;
  project.provide('pgAdminUrl', pgServer.adminUrl);
  project.provide('mysqlAdminUrl', mysqlServer.adminUrl);
  project.provide('pgLogPath', pgServer.logPath);
  project.provide('mysqlLogPath', mysqlServer.logPath);
  console.log(`[test servers] ${describeServer('PostgreSQL', pg.value)}, ${describeServer('MariaDB', mysql.value)}`);

  return async () => {
    await Promise.all([pgServer.stop(), mysqlServer.stop()]);
  };
}
