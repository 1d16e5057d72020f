// Teardown of a Postgres session's relay (src/net/relay-core.ts with src/engines/postgres/framing.ts) over loopback sockets, with no database: the test
// plays the client and the server. A session that ends sends a CancelRequest only while the server still runs a
// statement — never after an error the server has already answered, whose CancelRequest could land on the backend's
// next step and hand the client a 57014 it never caused (issue 19, defect 9).
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/access/grant.js';
import { newGrantId } from '../../src/access/ids.js';
import type { StatementFields } from '../../src/audit/events.js';
import { statementFields, type StatementInFlight, type StatementOutcome } from '../../src/audit/statement-record.js';
import type { StatementRecorder } from '../../src/audit/statement-recorder.js';
import { PostgresFraming } from '../../src/engines/postgres/framing.js';
import { RelayCore } from '../../src/net/relay-core.js';
import { PostgresTap } from '../../src/engines/postgres/tap.js';
import { Session } from '../../src/session/session.js';
import { cstr, frame, int16, int32 } from '../support/pg-frames.js';

class Recorded implements StatementRecorder {
  readonly wantsParameters = true;
  readonly events: Omit<StatementFields, 'seq'>[] = [];
  record(statement: StatementInFlight, outcome: StatementOutcome): void {
    this.events.push(statementFields(statement, outcome));
  }
}

function grant(): Grant {
  const now = new Date();
  return {
    id: newGrantId(), resource: 'r', role: 'readwrite', requester: 'dev', reason: '', policy: 'p', state: 'active',
    endReason: null, ttlSeconds: 60, approvalsRequired: 0, approverGroups: [], createdAt: now, approvedAt: now,
    activatedAt: now, expiresAt: new Date(now.getTime() + 60_000), endedAt: null,
    verifiers: { scramSha256: '', sha256Double: '', sha1Double: '' }, decisions: [], version: 1,
  };
}

const opened: Socket[] = [];
afterEach(() => {
  for (const socket of opened.splice(0)) socket.destroy();
});

/** Two ends of one loopback TCP connection. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const near = connect(address.port, '127.0.0.1');
  const [far] = await accepted;
  await once(near, 'connect').catch(() => {});
  server.close();
  opened.push(near, far);
  return [near, far];
}

/** Resolves once `socket` has received `count` bytes in all (collected from the moment of the call). */
function receive(socket: Socket): { bytes: () => Buffer; atLeast: (count: number) => Promise<void> } {
  let received = Buffer.alloc(0);
  let wake = (): void => {};
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  return {
    bytes: () => received,
    atLeast: (count) => new Promise<void>((resolve) => {
      wake = () => { if (received.length >= count) resolve(); };
      wake();
    }),
  };
}

async function relayed(): Promise<{ app: Socket; appEnded: Promise<unknown>; db: Socket; appSees: ReturnType<typeof receive>; dbSees: ReturnType<typeof receive>; relay: RelayCore; session: Session; cancels: () => number }> {
  const [app, relayClient] = await socketPair();
  const [relayUpstream, db] = await socketPair();
  const session = new Session({ grant: grant(), protocol: 'postgres', clientAddress: '127.0.0.1:1', tls: false, program: null, shutdown: new AbortController().signal });
  let cancels = 0;
  const framing = new PostgresFraming(new PostgresTap(new Recorded()), {
    grant: session.grant.id, maxMessageBytes: 1 << 20, auditAccepting: () => true, cancel: () => { cancels++; },
  });
  const relay = new RelayCore(relayClient, relayUpstream, framing, { end: (reason) => session.end(reason), counted: session, keepUpstream: () => false });
  relay.start(Buffer.alloc(0));
  return { app, appEnded: once(app, 'end'), db, appSees: receive(app), dbSees: receive(db), relay, session, cancels: () => cancels };
}

const fatalExpired = (grant: string): Buffer => frame('E', 'S', cstr('FATAL'), 'V', cstr('FATAL'), 'C', cstr('57P01'), 'M', cstr(`grant ${grant} expired`), [0]);
const errorResponse = (code: string, message: string): Buffer => frame('E', 'S', cstr('ERROR'), 'C', cstr(code), 'M', cstr(message), [0]);
const ready = frame('Z', 'I');

describe('RelayCore.close with the Postgres framing: cancel only what is still running', () => {
  it('after an error the server has answered (its ReadyForQuery still to come): no CancelRequest', async () => {
    const { app, appEnded, db, appSees, dbSees, relay, session, cancels } = await relayed();
    const FATAL = fatalExpired(session.grant.id);
    const batch = Buffer.concat([frame('P', cstr(''), cstr('select 1/0'), int16(0)), frame('B', cstr(''), cstr(''), int16(0), int16(0), int16(0)),
      frame('E', cstr(''), int32(0)), frame('S')]);
    app.write(batch);
    await dbSees.atLeast(batch.length);
    const answered = Buffer.concat([frame('1'), frame('2'), errorResponse('22012', 'division by zero')]);
    db.write(answered);
    await appSees.atLeast(answered.length);
    relay.close({ kind: 'grant_expired' });
    expect(cancels()).toBe(0);
    db.write(ready);
    await relay.done;
    await appEnded;
    expect(appSees.bytes()).toEqual(Buffer.concat([answered, ready, FATAL]));
  });

  it('while a statement runs: one CancelRequest, and the client hears the server out before the FATAL', async () => {
    const { app, appEnded, db, appSees, dbSees, relay, session, cancels } = await relayed();
    const FATAL = fatalExpired(session.grant.id);
    const sleeping = frame('Q', cstr('select pg_sleep(10)'));
    app.write(sleeping);
    await dbSees.atLeast(sleeping.length);
    relay.close({ kind: 'grant_expired' });
    expect(cancels()).toBe(1);
    const cancelled = Buffer.concat([errorResponse('57014', 'canceling statement due to user request'), ready]);
    db.write(cancelled);
    await relay.done;
    await appEnded;
    expect(appSees.bytes()).toEqual(Buffer.concat([cancelled, FATAL]));
  });
});
