// KILL by connection id through jitgate (issue 19 defect 10c), beyond what the shared app-pattern scenarios run both
// ways: the greeting's id is jitgate's, so a KILL of it must reach the right server thread only within the client's
// own grant — another grant's session id gets ERR 1094 as an unknown id would, and its query runs on; a server
// connection handed to the grant's next session (server-pool.ts) is killed by that session's id, not the old one's;
// COM_PROCESS_KILL maps the same way; the audit has the KILL as the client sent it.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trailHead, waitForEvent } from '../support/mysql-audit-events.js';
import { cat, u32 } from '../support/mysql-frames.js';
import { decodeErr, RawMysqlConnection } from '../support/mysql-raw-client.js';
import { connectionOptions, rowsOf, serverErrorOf } from '../support/mysql-scenarios/connect.js';
import { createJitgateMysqlTarget } from '../support/mysql-target.js';

type Grant = { readonly id: string; readonly token: string };

describe('KILL by connection id through jitgate', () => {
  let jitgate: Awaited<ReturnType<typeof createJitgateMysqlTarget>> | undefined;
  let other: Grant | undefined;
  const setup = () => {
    if (jitgate === undefined || other === undefined) throw new Error('setup failed (see beforeAll)');
    const { target } = jitgate;
    return { handle: jitgate.instance.handle, target, own: { id: target.user, token: target.password }, other };
  };
  const connect = (grant: Grant): Promise<mysql.Connection> =>
    mysql.createConnection(connectionOptions(setup().target, { user: grant.id, password: grant.token }));
  const serverThread = async (connection: mysql.Connection): Promise<number> => {
    const [rows] = await connection.query('select connection_id() as id');
    return Number(rowsOf(rows)[0]?.id);
  };

  beforeAll(async () => {
    jitgate = await createJitgateMysqlTarget('jitgate (kill)', { listenerTls: false });
    other = await jitgate.instance.grant('clients-mysql', 'readwrite', '1h');
  });
  afterAll(async () => {
    await jitgate?.cleanup();
  });

  it('another grant\'s session id gets ERR 1094 without reaching the server; its query runs on', async () => {
    const { own, other: foreign } = setup();
    const victim = await connect(foreign);
    const killer = await connect(own);
    try {
      const sleeping = victim.query('select sleep(1) as slept');
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const statement of [`KILL QUERY ${victim.threadId}`, `KILL ${victim.threadId}`]) {
        expect(await serverErrorOf(killer.query(statement))).toEqual({
          errno: 1094, sqlState: 'HY000', code: 'ER_NO_SUCH_THREAD', message: `Unknown thread id: ${victim.threadId}`,
        });
      }
      const [rows] = await sleeping;
      expect(rowsOf(rows)).toEqual([{ slept: 0 }]);
    } finally {
      victim.destroy();
      killer.destroy();
    }
  });

  it('a reused server connection is killed by its new session\'s id; the old session\'s id is unknown', async () => {
    const { own } = setup();
    const first = await connect(own);
    const firstAdvertised = first.threadId;
    const reusedThread = await serverThread(first);
    await first.end(); // COM_QUIT: the server connection is reset and parked for the grant's next login
    let second: mysql.Connection | undefined;
    for (let attempt = 0; attempt < 50 && second === undefined; attempt++) {
      const candidate = await connect(own);
      if (await serverThread(candidate) === reusedThread) second = candidate;
      else {
        candidate.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    if (second === undefined) throw new Error(`server thread ${reusedThread} was not handed to a later session`);
    const killer = await connect(own);
    try {
      expect(second.threadId).not.toBe(firstAdvertised);
      expect(await serverErrorOf(killer.query(`KILL QUERY ${firstAdvertised}`))).toMatchObject({ errno: 1094 });
      const running = serverErrorOf(second.query('select sleep(10)'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await killer.query(`KILL QUERY ${second.threadId}`);
      expect(await running).toMatchObject({ errno: 1317, code: 'ER_QUERY_INTERRUPTED' });
    } finally {
      second.destroy();
      killer.destroy();
    }
  });

  it('COM_PROCESS_KILL: the grant\'s own session is killed on the server; another grant\'s id gets ERR 1094', async () => {
    const { target, own, other: foreign } = setup();
    const raw = await RawMysqlConnection.open(target.host, target.port);
    expect((await raw.login(own.id, own.token, target.database)).payload[0]).toBe(0x00);
    const foreignSession = await connect(foreign);
    const ownSession = await connect(own);
    const lost = new Promise<unknown>((resolve) => ownSession.on('error', (error: Error & { code?: unknown }) => resolve(error.code)));
    try {
      raw.command(cat([0x0c], u32(foreignSession.threadId)));
      expect(decodeErr((await raw.read()).payload)).toEqual({ errno: 1094, sqlState: 'HY000', message: `Unknown thread id: ${foreignSession.threadId}` });
      expect(rowsOf((await foreignSession.query('select 1 as one'))[0])).toEqual([{ one: 1 }]);
      raw.command(cat([0x0c], u32(ownSession.threadId)));
      expect((await raw.read()).payload[0]).toBe(0x00); // the server's OK
      expect(await lost).toBe('PROTOCOL_CONNECTION_LOST');
    } finally {
      raw.destroy();
      foreignSession.destroy();
      ownSession.destroy();
    }
  });

  it('the audit has the KILL as the client sent it, with the server\'s outcome or jitgate\'s 1094', async () => {
    const { handle, own } = setup();
    const after = await trailHead(handle);
    const victim = await connect(own);
    const killer = await connect(own);
    try {
      const mapped = `/* cancel */ KILL QUERY ${victim.threadId};`;
      await killer.query(mapped);
      await serverErrorOf(killer.query('KILL 4000000000'));
      expect(await waitForEvent(handle, after, (event) => event.type === 'statement' && event.sql === mapped))
        .toMatchObject({ kind: 'query', tag: 'OK' });
      expect(await waitForEvent(handle, after, (event) => event.type === 'statement' && event.sql === 'KILL 4000000000'))
        .toMatchObject({ kind: 'query', error: { code: '1094', message: 'Unknown thread id: 4000000000' } });
    } finally {
      victim.destroy();
      killer.destroy();
    }
  });
});
