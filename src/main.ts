// Composition root: config → store → audit → grants → API, and the process signals that end it all in order.
// Engines and brokers (later) are wired here too, so nothing below main.ts picks its own collaborators.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { GrantLifecycle } from './access/grant-lifecycle.js';
import { GrantService } from './access/grant-service.js';
import { ApiKeyDirectory, type GeneratedKey } from './access/identity.js';
import { openAuditLog } from './audit/create.js';
import type { AuditLog } from './audit/events.js';
import { ApiMetrics } from './api/metrics.js';
import { buildApiServer } from './api/server.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger } from './log.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { splitHostPort } from './net/address.js';

export interface JitgateHandle {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:7480 (the real port when the config asked for port 0). */
  readonly apiUrl: string;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly grants: GrantService;
  readonly lifecycle: GrantLifecycle;
  readonly generatedKeys: readonly GeneratedKey[];
  close(): Promise<void>;
}

export async function startJitgate(config: Config, logger: Logger = createLogger()): Promise<JitgateHandle> {
  const store = await openStore(config.store.url);
  const audit = await openAuditLog(config.audit, store, logger).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const lifecycle = new GrantLifecycle({ store, audit, logger });
  const grants = new GrantService({ config, store, audit, lifecycle });
  const authenticator = new ApiKeyDirectory(config.identities.api_keys);
  const app = buildApiServer({ config, store, audit, grants, authenticator, metrics: new ApiMetrics(store), logger });

  lifecycle.start();
  const { host, port } = splitHostPort(config.listen.api);
  try {
    await app.listen({ host, port });
  } catch (error) {
    lifecycle.stop();
    await audit.close();
    await store.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const apiUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      lifecycle.stop();
      await app.close();
      await audit.close();
      await store.close();
    })();
    return closing;
  };
  return { apiUrl, store, audit, grants, lifecycle, generatedKeys: authenticator.generated, close };
}

/** `jitgate serve`: runs until SIGINT/SIGTERM, then closes listeners, flushes the audit trail and the store. */
export async function runServe(configPath: string): Promise<void> {
  const logger = createLogger();
  let config: Config;
  try {
    config = await loadConfigFile(configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  const handle = await startJitgate(config, logger);
  for (const { name, key } of handle.generatedKeys) {
    // Printed once, to the terminal only: generated keys are never logged or stored.
    process.stderr.write(`jitgate: generated API key for "${name}" (valid until restart): ${key}\n`);
  }
  logger.info({ api: handle.apiUrl, store: handle.store.kind, resources: config.resources.map((r) => r.name) }, 'jitgate serving');
  process.stderr.write(`jitgate: API listening on ${handle.apiUrl}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      handle.close().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  logger.flush();
}
