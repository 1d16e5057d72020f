// A diagnostic target for the MySQL benchmark: jitgate's MySQL engine in this process with every collaborator stubbed
// — a fixed grant, a fixed upstream user, and an audit trail that drops events — so the table can show how much of
// jitgate's cost is the relay and tap (which still decode every command and response and build every statement
// record) and how much the audit sinks. Never a configuration jitgate offers.
/* global AbortController */
import { randomBytes } from 'node:crypto';

/** Starts the stubbed engine on a free port; it logs in upstream as `user` on { host, port, database }. */
export async function startMysqlRelayOnly({ root, host, port, database, user, password }) {
  const dist = (path) => import(new URL(`dist/src/${path}`, `file://${root}/`).href);
  const [{ makeTokenVerifiers }, { newGrantId }, { Secret }, { MysqlEngine }, { listen }, { SessionRegistry }, { createLogger }, { parseConfigText }] =
    await Promise.all(['access/tokens.js', 'access/ids.js', 'audit/secret.js', 'engines/mysql/engine.js', 'net/listener.js',
      'session/registry.js', 'log.js', 'config/load.js'].map(dist));
  const config = parseConfigText(`
resources:
  - { name: relay, protocol: mysql, host: ${host}, port: ${port}, database: ${database}, tls: { mode: disable }, admin: { user: unused },
      roles: { readonly: { max_ttl: 1h, creation_statements: ["CREATE USER '{{name}}' IDENTIFIED BY '{{password}}'"] } } }
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
  const engine = new MysqlEngine({
    grants: { lookup: async (id) => (id === grant.id ? grant : undefined), activate: async () => {}, allowsAddress: () => true },
    leases: {
      acquire: async () => ({ leaseId: 'bench', broker: 'builtin', grantId: grant.id, resource: 'relay', role: 'readonly', username: user,
        password: new Secret(password), expiresAt: grant.expiresAt }),
      released: () => {},
    },
    audit: { emit: async () => {}, accepting: () => true, flush: async () => {}, close: async () => {} },
    sessions: new SessionRegistry(),
    sessionRecords: { insertSession: async () => {}, updateSession: async () => {} },
    resources: () => resource,
    mysqlResources: [resource],
    logger: createLogger('warn'), shutdown: shutdown.signal, tls: { context: undefined, require: false },
    maxPacketBytes: 256 * 1024 * 1024, maxAuditSqlBytes: 1024 * 1024, parameters: 'full', mockSecretKey: randomBytes(32),
  });
  await engine.probe();
  const listener = await listen('127.0.0.1:0', 'mysql', (socket) => engine.handleConnection(socket), createLogger('warn'));
  return {
    port: listener.address.port, user: grant.id, password: token, pid: process.pid,
    async stop() {
      shutdown.abort();
      await listener.close();
    },
  };
}
