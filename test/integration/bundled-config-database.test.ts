// Issue 19 defect 2, acceptance 2: the bundled config/jitgate.yaml, unmodified, with JITGATE_MYSQL_ADMIN_URL naming a
// database other than `test`. A readonly grant reads that database's tables through jitgate (mysql2) and gets the
// server's own 1142 on a write. The config is the shipped file itself, loaded with the env variables an operator sets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startJitgate, type JitgateHandle } from '../../src/main.js';
import { apiAs } from '../support/api-client.js';
import { createMysqlDatabase, pgAdminUrl, type ScratchDatabase } from '../support/databases.js';
import { TEST_KEYS } from '../support/test-config.js';

const BUNDLED = fileURLToPath(new URL('../../config/jitgate.yaml', import.meta.url));

let jitgate: JitgateHandle | undefined;
let accdb: ScratchDatabase | undefined;
let dataDir = '';

beforeAll(async () => {
  accdb = await createMysqlDatabase('accdb');
  const admin = await mysql.createConnection({ uri: accdb.url });
  try {
    await admin.query('create table accounts (id int primary key, owner varchar(40))');
    await admin.query("insert into accounts values (1, 'ada'), (2, 'grace')");
  } finally {
    await admin.end();
  }
  dataDir = mkdtempSync(join(tmpdir(), 'jitgate-bundled-'));
  const config = await loadConfigFile(BUNDLED, {
    JITGATE_API_ADDR: '127.0.0.1:0',
    JITGATE_PG_ADDR: '127.0.0.1:0',
    JITGATE_MYSQL_ADDR: '127.0.0.1:0',
    JITGATE_DATA_DIR: dataDir,
    JITGATE_PG_ADMIN_URL: pgAdminUrl(),
    JITGATE_MYSQL_ADMIN_URL: accdb.url,
    JITGATE_ADMIN_KEY: TEST_KEYS.admin,
    JITGATE_DEV_KEY: TEST_KEYS.dev,
  });
  expect(config.resources.find((resource) => resource.name === 'local-mysql')?.database).toBe(accdb.name);
  jitgate = await startJitgate(config, createLogger(process.env.JITGATE_TEST_LOG_LEVEL ?? 'silent'));
});

afterAll(async () => {
  await jitgate?.close();
  await accdb?.drop();
  if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
});

describe('bundled config on a MySQL database not named test', () => {
  it('a readonly grant reads the admin URL\'s database and gets 1142 on INSERT', async () => {
    if (jitgate === undefined || accdb === undefined) throw new Error('not started');
    const { status, body } = await apiAs(jitgate.apiUrl, 'dev').post('/v1/grants',
      { resource: 'local-mysql', role: 'readonly', ttl: '10m', reason: 'bundled config on accdb' });
    expect(status).toBe(201);
    const endpoint = jitgate.endpointFor('mysql');
    const connection = await mysql.createConnection({
      host: endpoint.host, port: endpoint.port, user: String(body.id), password: String(body.token), database: accdb.name,
    });
    try {
      const [rows] = await connection.query('select id, owner from accounts order by id');
      expect(rows).toEqual([{ id: 1, owner: 'ada' }, { id: 2, owner: 'grace' }]);
      const write = await connection.query("insert into accounts values (3, 'edsger')").then(() => undefined, (error: unknown) => error);
      expect(write).toMatchObject({ errno: 1142, sqlState: '42000' });
      expect(String((write as Error).message)).toMatch(/INSERT command denied/);
    } finally {
      await connection.end();
    }
  });
});
