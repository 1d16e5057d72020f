// Builds the audit log from `config.audit` (main.ts): the store sink over the shared store, the JSON-lines stream
// to the configured file or stdout, batching and failure policy as configured.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { BatchingAuditLog } from './audit-log.js';
import { JsonlAuditSink } from './sinks/jsonl-sink.js';
import { StoreAuditSink, type AuditChainStore } from './sinks/store-sink.js';

export type AuditConfig = Config['audit'];

/** Returns at once; a stream file that cannot be opened shows up as failing batches (logged, retried). */
export function createAuditLog(config: AuditConfig, store: AuditChainStore, logger?: Logger): BatchingAuditLog {
  return assemble(config, store, JsonlAuditSink.create(streamOptions(config, logger)), logger);
}

/** Like createAuditLog, but first waits for the stream file to open, so a bad path fails startup instead. */
export async function openAuditLog(config: AuditConfig, store: AuditChainStore, logger?: Logger): Promise<BatchingAuditLog> {
  return assemble(config, store, await JsonlAuditSink.open(streamOptions(config, logger)), logger);
}

function streamOptions(config: AuditConfig, logger: Logger | undefined): { file: string; logger?: Logger } {
  return logger === undefined ? { file: config.file } : { file: config.file, logger };
}

function assemble(config: AuditConfig, store: AuditChainStore, stream: JsonlAuditSink, logger: Logger | undefined): BatchingAuditLog {
  return new BatchingAuditLog({
    store: new StoreAuditSink(store),
    stream,
    durability: config.durability,
    onFailure: config.on_failure,
    batchMaxEvents: config.batch_max_events,
    batchMaxDelayMs: config.batch_max_delay_ms,
    ...(logger === undefined ? {} : { logger }),
  });
}
