// What integration tests import to reach the run's servers: the admin URLs from the global setup, and scratch
// databases with a unique name each, so suites in parallel workers never share state.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { mysqlTargetFromUrl, runMysql } from './mysql-cli.js';

export const pgAdminUrl = (): string => inject('pgAdminUrl');
export const mysqlAdminUrl = (): string => inject('mysqlAdminUrl');

export interface ScratchDatabase {
  readonly name: string;
  /** The admin URL pointed at the scratch database. */
  readonly url: string;
  /** Drops the database (terminating connections still open on PostgreSQL). */
  drop(): Promise<void>;
}

const NAME_PREFIX = /^[a-z][a-z0-9_]{0,40}$/;

/** `<prefix>_<random>`: safe to quote without escaping on both servers, unique across workers and reruns. */
function scratchName(prefix: string): string {
  if (!NAME_PREFIX.test(prefix)) throw new Error(`scratch database prefix must match ${NAME_PREFIX}: ${prefix}`);
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

function withDatabase(url: string, name: string): string {
  const out = new URL(url);
  out.pathname = `/${name}`;
  return out.toString();
}

async function pgAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function createPgDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = scratchName(prefix);
  await pgAdmin(`create database "${name}"`);
  return {
    name,
    url: withDatabase(pgAdminUrl(), name),
    drop: () => pgAdmin(`drop database if exists "${name}" with (force)`),
  };
}

export async function createMysqlDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = scratchName(prefix);
  const admin = mysqlTargetFromUrl(mysqlAdminUrl());
  await runMysql(admin, `create database \`${name}\``);
  return {
    name,
    url: withDatabase(mysqlAdminUrl(), name),
    drop: async () => {
      await runMysql(admin, `drop database if exists \`${name}\``);
    },
  };
}
