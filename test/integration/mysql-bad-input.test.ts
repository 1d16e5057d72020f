// Issue 6, acceptance 3: bad input on jitgate's MySQL port. Each case gets the right ERR (or a clean close), is on
// the audit record (session.auth_failed, session.ended, policy.blocked), and leaves jitgate serving: after every
// case a fresh mysql2 connection runs a query. Raw sockets (test/support/mysql-raw-client.ts) send what real clients
// never would; mysql2 covers LOAD DATA LOCAL INFILE and the ended grant.
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiAs } from '../support/api-client.js';
import { trailHead, waitForEvent, type TrailEvent } from '../support/mysql-audit-events.js';
import { cat, u16, u24, u32 } from '../support/mysql-frames.js';
import { comQuery, decodeErr, RawMysqlConnection } from '../support/mysql-raw-client.js';
import { connectionOptions, rowsOf, serverErrorOf, withConnection } from '../support/mysql-scenarios/connect.js';
import { createDirectMysqlTarget, createJitgateMysqlTarget, type MysqlTarget } from '../support/mysql-target.js';

// The suite's process is jitgate's too (in-process instance): a full GC before each reading leaves what is live.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** The instance's cap on a client packet (limits.max_message_bytes, at its minimum): small, so tests can exceed it. */
const MAX_PACKET_BYTES = 1024 * 1024;

describe('MySQL bad input through jitgate', () => {
  let jitgate: Awaited<ReturnType<typeof createJitgateMysqlTarget>> | undefined;
  const target = (): MysqlTarget => {
    if (jitgate === undefined) throw new Error('the jitgate target was not created (see beforeAll)');
    return jitgate.target;
  };
  const handle = () => {
    if (jitgate === undefined) throw new Error('the jitgate target was not created (see beforeAll)');
    return jitgate.instance.handle;
  };
  const open = (): Promise<RawMysqlConnection> => RawMysqlConnection.open(target().host, target().port);
  /** A raw connection logged in as the suite's grant. */
  const session = async (): Promise<RawMysqlConnection> => {
    const raw = await open();
    const answer = await raw.login(target().user, target().password, target().database);
    expect(answer.payload[0], 'login OK').toBe(0x00);
    return raw;
  };
  const event = (after: number, type: string, matches: (event: TrailEvent) => boolean = () => true): Promise<TrailEvent> =>
    waitForEvent(handle(), after, (candidate) => candidate.type === type && matches(candidate), 3_000);

  beforeAll(async () => {
    jitgate = await createJitgateMysqlTarget('jitgate (bad input)', {
      listenerTls: false, instance: { extraYaml: `limits: { max_message_bytes: ${MAX_PACKET_BYTES} }` },
    });
  });
  afterAll(async () => {
    await jitgate?.cleanup();
  });
  afterEach(async () => {
    // jitgate stays up: a normal client still gets an answer, and no session is left behind.
    const [rows] = await withConnection(target(), (connection) => connection.query('select 1 + 1 as two'));
    expect(rowsOf(rows)).toEqual([{ two: 2 }]);
    const deadline = Date.now() + 3_000;
    while (handle().sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handle().sessions.size).toBe(0);
  });

  it('unknown grant and wrong token: ERR 1045 (28000), byte-identical but for the user name', async () => {
    const after = await trailHead(handle());
    const answers = [];
    for (const user of ['g_aaaaaaaaaaaaaaaaaaaa', 'root', target().user]) {
      const raw = await open();
      answers.push({ user, packet: await raw.login(user, user === target().user ? `${target().password}x` : target().password, target().database) });
      await raw.closedByServer();
    }
    const [unknown, notAGrant, wrongToken] = answers as [typeof answers[0], typeof answers[0], typeof answers[0]];
    expect(decodeErr(unknown.packet.payload)).toEqual({
      errno: 1045, sqlState: '28000', message: `Access denied for user '${unknown.user}'@'127.0.0.1' (using password: YES)`,
    });
    for (const other of [notAGrant, wrongToken]) {
      expect(other.packet.sequenceId).toBe(unknown.packet.sequenceId);
      expect(other.packet.payload.toString('hex')).toBe(Buffer.from(unknown.packet.payload.toString('latin1').replace(unknown.user, other.user), 'latin1').toString('hex'));
    }
    for (const { user } of answers) {
      const failed = await event(after, 'session.auth_failed', (candidate) => candidate.user === user);
      expect(failed).toMatchObject({ protocol: 'mysql', code: '1045', reason: user === target().user ? 'wrong token' : 'unknown grant' });
    }
  });

  it('an ended grant (revoked through the API): ERR 1045 naming the reason', async () => {
    if (jitgate === undefined) throw new Error('setup failed');
    const ended = await jitgate.instance.grant('clients-mysql', 'readwrite', '1h');
    const revoked = await apiAs(handle().apiUrl, 'admin').post(`/v1/grants/${ended.id}/revoke`);
    expect(revoked.status).toBe(200);
    const after = await trailHead(handle());
    const error = await serverErrorOf(mysql.createConnection(connectionOptions(target(), { user: ended.id, password: ended.token })));
    expect(error).toMatchObject({ errno: 1045, sqlState: '28000' });
    expect(error.message).toBe(`Access denied for user '${ended.id}'@'127.0.0.1': grant ${ended.id} is revoked`);
    expect(await event(after, 'session.auth_failed')).toMatchObject({ user: ended.id, code: '1045', reason: `grant ${ended.id} is revoked` });
  });

  it('a declared length beyond the cap: ERR 1153 and close, before the handshake and after it, with no memory growth', async () => {
    const after = await trailHead(handle());
    const early = await open();
    await early.read(); // the greeting
    early.write(cat(u24(0xffffff), [1], Buffer.alloc(1000)));
    expect(decodeErr((await early.read()).payload)).toMatchObject({ errno: 1153, sqlState: '08S01' });
    await early.closedByServer();
    expect(await event(after, 'session.auth_failed')).toMatchObject({ code: '1153' });

    const body = Buffer.alloc(MAX_PACKET_BYTES, 0x61);
    /** Live heap and buffers once every session has ended (and let go of its sockets). */
    const settledHeap = async (): Promise<number> => {
      for (const deadline = Date.now() + 3_000; handle().sessions.size > 0 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100));
      collectGarbage();
      return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    };
    const rounds = 30;
    const warmUp = 5;
    let before = 0;
    for (let round = 0; round < warmUp + rounds; round++) {
      if (round === warmUp) before = await settledHeap();
      const raw = await session();
      // 16 MiB declared, 1 MiB sent: a proxy that allocated for the declared length would grow by 30 × 16 MiB.
      raw.write(cat(u24(0xffffff), [0], [0x03], body));
      expect(decodeErr((await raw.read()).payload)).toMatchObject({ errno: 1153, sqlState: '08S01' });
      await raw.closedByServer();
    }
    const growthMiB = (await settledHeap() - before) / 2 ** 20;
    console.log(`[mysql bad input] ${rounds} × (16 MiB declared, 1 MiB sent): live heap + buffers grew ${growthMiB.toFixed(1)} MiB`);
    // Far below the 480 MiB of allocating for declared lengths; loose enough for sockets and GC timing on a busy box.
    expect(growthMiB).toBeLessThan(64);
    expect(await event(after, 'session.ended', (ended) => String(ended.reason).startsWith('protocol_error: packet payload')))
      .toMatchObject({ statements: 0 });
  });

  it('a truncated packet, then disconnect: the session ends and is recorded; nothing hangs', async () => {
    const after = await trailHead(handle());
    const early = await open();
    await early.read();
    early.write(cat(u24(100), [1], Buffer.alloc(10)));
    early.destroy();
    expect(await event(after, 'session.auth_failed')).toMatchObject({ reason: 'client closed during handshake' });

    const raw = await session();
    raw.write(cat(u24(100), [0], [0x03], 'select'));
    raw.destroy();
    expect(await event(after, 'session.ended')).toMatchObject({ reason: 'client_closed', statements: 0 });
  });

  it('a wrong sequence id on a command: ERR 1156 and close', async () => {
    const after = await trailHead(handle());
    const raw = await session();
    raw.command(comQuery('select 1'), 3);
    expect(decodeErr((await raw.read()).payload)).toMatchObject({ errno: 1156, sqlState: '08S01', message: 'Got packets out of order' });
    await raw.closedByServer();
    expect(await event(after, 'session.ended')).toMatchObject({ reason: 'protocol_error: packet sequence id 3, expected 0' });
  });

  it('garbage after auth: ERR then close (text that is no framing)', async () => {
    const after = await trailHead(handle());
    const text = await session();
    text.write(Buffer.from('GET / HTTP/1.1\r\nHost: jitgate\r\n\r\n'));
    expect(decodeErr((await text.read()).payload)).toMatchObject({ errno: 1156 });
    await text.closedByServer();
    expect(await event(after, 'session.ended', (ended) => String(ended.reason).startsWith('protocol_error: packet sequence id'))).toBeDefined();
  });

  it('commands whose bodies jitgate cannot decode go to the server as sent: the same answers as direct, the session goes on', async () => {
    /** What a server says to each, in order: short bodies, bytes after the fields, an empty packet. */
    const exchange = async (raw: RawMysqlConnection): Promise<string[]> => {
      const answers: string[] = [];
      raw.command(Buffer.from([0x19, 0x01])); // COM_STMT_CLOSE with 1 of its 4 statement id bytes: never answered
      raw.command(Buffer.from([0x17, 0x01])); // COM_STMT_EXECUTE with 1 of its 4 statement id bytes
      answers.push((await raw.read()).payload.toString('hex'));
      raw.command(Buffer.from([0x0e, 0xff, 0xff])); // COM_PING with two bytes after it
      answers.push((await raw.read()).payload.toString('hex'));
      raw.command(Buffer.alloc(0));
      answers.push((await raw.read()).payload.toString('hex'));
      raw.command(comQuery('select 7'));
      answers.push((await raw.read()).payload.toString('hex')); // the column count: the session is still in step
      raw.destroy();
      return answers;
    };
    const direct = await createDirectMysqlTarget('direct (bad input)');
    let expected: string[];
    try {
      const raw = await RawMysqlConnection.open(direct.target.host, direct.target.port);
      expect((await raw.login(direct.target.user, direct.target.password, direct.target.database)).payload[0]).toBe(0x00);
      expected = await exchange(raw);
    } finally {
      await direct.cleanup();
    }
    console.log(`[mysql bad input] MariaDB's answers to undecodable bodies: ${expected.join(' | ')}`);
    expect(decodeErr(Buffer.from(expected[0] ?? '', 'hex')).errno).toBeGreaterThan(1000);

    const after = await trailHead(handle());
    expect(await exchange(await session())).toEqual(expected);
    const recorded = await event(after, 'statement', (statement) => statement.kind === 'stmt_execute');
    expect(recorded).toMatchObject({ sql: '', undecoded: expect.stringMatching(/^COM_STMT_EXECUTE: /) as unknown });
    expect((recorded.error as { code: string }).code).toBe(String(decodeErr(Buffer.from(expected[0] ?? '', 'hex')).errno));
    expect(await event(after, 'session.ended')).toMatchObject({ reason: 'client_closed' });
  });

  it('COM_CHANGE_USER, COM_BINLOG_DUMP, COM_REGISTER_SLAVE: ERR 1235 in place, recorded; the session goes on', async () => {
    const after = await trailHead(handle());
    const raw = await session();
    const commands = {
      change_user: cat([0x11], 'root', [0], [0], [0]),
      binlog_dump: cat([0x12], u32(4), u16(0), u32(99), 'mariadb-bin.000001'),
      register_slave: cat([0x15], u32(99), [0], [0], [0], u16(3306), u32(0), u32(0)),
    };
    for (const [name, payload] of Object.entries(commands)) {
      raw.command(payload);
      const answer = await raw.read();
      expect(answer.sequenceId).toBe(1);
      expect(decodeErr(answer.payload)).toMatchObject({ errno: 1235, sqlState: '42000' });
      expect(await event(after, 'policy.blocked', (blocked) => blocked.detail === name)).toMatchObject({ grant: target().user });
    }
    raw.command(comQuery('select 7'));
    expect((await raw.read()).payload[0]).toBe(1); // one column: the session is still in step
    raw.destroy();
  });

  it('COM_INIT_DB to another database: ERR 1044; to its own database: OK', async () => {
    const after = await trailHead(handle());
    const raw = await session();
    raw.command(cat([0x02], 'mysql'));
    expect(decodeErr((await raw.read()).payload)).toEqual({
      errno: 1044, sqlState: '42000', message: `Access denied for user '${target().user}'@'%' to database 'mysql'`,
    });
    raw.command(cat([0x02], target().database));
    expect((await raw.read()).payload[0]).toBe(0x00);
    expect(await event(after, 'policy.blocked')).toMatchObject({ detail: 'init_db' });
    raw.destroy();
  });

  it('LOAD DATA LOCAL INFILE: refused (CLIENT_LOCAL_FILES is off on both legs) and no file is read', async () => {
    let opened = 0;
    await withConnection(target(), async (connection) => {
      await connection.query('create table bi_load (a int)');
      const error = await serverErrorOf(connection.query({
        sql: "load data local infile '/etc/hostname' into table bi_load",
        infileStreamFactory: () => {
          opened++;
          return Readable.from(['1\n']);
        },
      }));
      console.log(`[mysql bad input] LOAD DATA LOCAL INFILE → ${error.errno ?? '?'} ${error.message}`);
      expect([1148, 4166]).toContain(error.errno);
      const [rows] = await connection.query('select count(*) as n from bi_load');
      expect(rowsOf(rows)).toEqual([{ n: '0' }]);
    });
    expect(opened).toBe(0);
  });
});
