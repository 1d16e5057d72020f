// /v1/audit/verify: re-walks the hash chain from the first event and names the first break.
import type { FastifyInstance } from 'fastify';
import { forbidden } from '../../access/errors.js';
import { isAuditor } from '../../access/identity.js';
import type { Store } from '../../store/store.js';
import { verifyStoredChain } from '../../audit/verify.js';
import { callerOf } from '../auth.js';

export function registerAuditRoutes(app: FastifyInstance, store: Store, flushAudit: () => Promise<void>): void {
  app.get('/v1/audit/verify', async (request) => {
    if (!isAuditor(callerOf(request))) throw forbidden('verifying the audit chain needs the auditor or admin group');
    await flushAudit();
    return verifyStoredChain(store, { batchSize: 1_000 });
  });
}
