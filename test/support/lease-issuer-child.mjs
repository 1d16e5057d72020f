// Child process of the kill -9 test (test/integration/lease-crash-recovery.test.ts): runs the compiled jitgate
// (dist/, so build first) with the given config, requests one auto-approved grant per resource argument, acquires
// its lease, prints `READY <json>` and idles until it is killed. No engine exists yet, so this stands in for the
// first connections that would make jitgate issue leases.
//   node test/support/lease-issuer-child.mjs <config.yaml> <resource>...   (API key in JITGATE_TEST_DEV_KEY)
/* global fetch, setInterval */
import { loadConfigFile } from '../../dist/src/config/load.js';
import { createLogger } from '../../dist/src/log.js';
import { startJitgate } from '../../dist/src/main.js';

const [configPath, ...resources] = process.argv.slice(2);
const key = process.env.JITGATE_TEST_DEV_KEY ?? '';
const handle = await startJitgate(await loadConfigFile(configPath), createLogger('warn'));
await handle.sweep;

const issued = [];
for (const resource of resources) {
  const response = await fetch(`${handle.apiUrl}/v1/grants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resource, role: 'readonly', ttl: '30m', reason: 'kill -9 test' }),
  });
  const body = await response.json();
  if (response.status !== 201) throw new Error(`grant request failed: ${response.status} ${JSON.stringify(body)}`);
  const grant = await handle.store.getGrant(body.id);
  const lease = await handle.leases.acquire(grant);
  issued.push({ grant: grant.id, resource, username: lease.username });
}
process.stdout.write(`READY ${JSON.stringify(issued)}\n`);
setInterval(() => {}, 60_000); // idle: the test ends this process with SIGKILL
