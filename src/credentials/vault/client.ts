// The node-vault client, built so that none of its pitfalls (VAULT.md §5) reach jitgate:
// - every request has a timeout (node-vault has none by default);
// - `strictSSL` is always given, so VAULT_SKIP_VERIFY in the environment (any non-empty value disables verification)
//   changes nothing: only `tls.skip_verify` does;
// - no `requestOptions.headers` (the sticky-token bug); the token is set on `client.token` by the token keeper only;
// - VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX env fallbacks are overwritten with the configured values;
// - node-vault's `debug` logger (enabled by DEBUG=node-vault) prints request bodies — AppRole secret_id included —
//   so it is replaced by a no-op.
import vault from 'node-vault';
import type { Config } from '../../config/schema.js';

export type VaultBrokerConfig = NonNullable<Config['brokers']['vault']>;
export type VaultClient = ReturnType<typeof vault>;

/** Per request, connect + answer: a Vault that hangs must fail the issue fast so the client gets an answer. */
export const DEFAULT_VAULT_TIMEOUT_MS = 5_000;

export function createVaultClient(config: VaultBrokerConfig, timeoutMs: number = DEFAULT_VAULT_TIMEOUT_MS): VaultClient {
  const tls = config.tls;
  const requestOptions = {
    timeout: timeoutMs,
    strictSSL: !(tls?.skip_verify ?? false),
    ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls?.key === undefined ? {} : { key: tls.key }),
  };
  const client = vault({
    endpoint: config.address,
    apiVersion: 'v1',
    requestOptions,
    debug: () => undefined,
    ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
  });
  // node-vault fell back to the environment for what we did not give; jitgate's config is the only source.
  client.token = '';
  Object.assign(client, { namespace: config.namespace, pathPrefix: '' });
  return client;
}
