// Diagnostic targets for `npm run bench`: jitgate's Postgres or MySQL engine in this process with every collaborator
// stubbed — a fixed grant, a fixed upstream user, and an audit trail that drops events — so the tables can show how
// much of jitgate's cost is the relay and tap (which still decode every message and build every statement record)
// and how much the audit sinks. Never a configuration jitgate offers.
/* global AbortController */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';

/** One settled promise for every dropped statement, as a real batch shares one among its events. */
const DELIVERED = Promise.resolve();

const ROLE = {
  postgres: `['CREATE ROLE "{{name}}" PASSWORD ''{{password}}''']`,
  mysql: `["CREATE USER '{{name}}' IDENTIFIED BY '{{password}}'"]`,
};

/** The collaborators both engines take, stubbed; `upstream` is the user the engine logs in as on { host, port, database }. */
async function stubbed(protocol, { root, host, port, database, user, password }) {
  const dist = (path) => import(new URL(`dist/src/${path}`, `file://${root}/`).href);
  const [{ makeTokenVerifiers }, { newGrantId }, { Secret }, engines, { listen }, { SessionRegistry }, { createLogger }, { parseConfigText }] =
    await Promise.all(['access/tokens.js', 'access/ids.js', 'audit/secret.js', `engines/${protocol}/engine.js`, 'net/listener.js',
      'session/registry.js', 'log.js', 'config/load.js'].map(dist));
  const config = parseConfigText(`
resources:
  - { name: relay, protocol: ${protocol}, host: ${host}, port: ${port}, database: ${database}, tls: { mode: disable }, admin: { user: unused },
      roles: { readonly: { max_ttl: 1h, creation_statements: ${ROLE[protocol]} } } }
`, { env: {} });
  const [resource] = config.resources;
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  const grant = {
    id: newGrantId(), resource: 'relay', role: 'readonly', requester: 'bench', reason: '', policy: 'bench', state: 'active', endReason: null,
    ttlSeconds: 7200, approvalsRequired: 0, approverGroups: [], createdAt: now, approvedAt: now, activatedAt: now,
    expiresAt: new Date(now.getTime() + 7_200_000), endedAt: null, verifiers: await makeTokenVerifiers(token), decisions: [], version: 1,
  };
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // one listener per live session, as in src/main.ts
  const deps = {
    grants: { lookup: async (id) => (id === grant.id ? grant : undefined), activate: async () => {}, allowsAddress: () => true },
    leases: {
      acquire: async () => ({ leaseId: 'bench', broker: 'builtin', grantId: grant.id, resource: 'relay', role: 'readonly', username: user,
        password: new Secret(password), expiresAt: grant.expiresAt }),
      released: () => {},
    },
    audit: { emit: async () => {}, appendStatement: () => DELIVERED, accepting: () => true, flush: async () => {}, close: async () => {} },
    sessions: new SessionRegistry(),
    sessionRecords: { insertSession: async () => {}, updateSession: async () => {} },
    resources: () => resource,
    logger: createLogger('warn'), shutdown: shutdown.signal, tls: { context: undefined, require: false },
    maxAuditSqlBytes: 1024 * 1024, parameters: 'full', mockSecretKey: randomBytes(32), warnBeforeMs: 60_000,
  };
  /** Listens on a free port with `engine`; the handle logs in with the stub grant's id and token. */
  const serve = async (engine) => {
    const listener = await listen('127.0.0.1:0', protocol, (socket) => engine.handleConnection(socket), createLogger('warn'));
    return {
      port: listener.address.port, user: grant.id, password: token, pid: process.pid,
      async stop() {
        shutdown.abort();
        await listener.close();
      },
    };
  };
  return { engines, resource, deps, serve };
}

/** The Postgres engine, stubbed, on a free port. */
export async function startRelayOnly(upstream) {
  const { engines, deps, serve } = await stubbed('postgres', upstream);
  return serve(new engines.PostgresEngine({ ...deps, maxMessageBytes: 256 * 1024 * 1024 }));
}

/** The MySQL engine, stubbed, on a free port. */
export async function startMysqlRelayOnly(upstream) {
  const { engines, resource, deps, serve } = await stubbed('mysql', upstream);
  const engine = new engines.MysqlEngine({ ...deps, mysqlResources: [resource], maxPacketBytes: 256 * 1024 * 1024 });
  await engine.probe();
  return serve(engine);
}
