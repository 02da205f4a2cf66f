import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../store/database';
import { countRunToday } from '../store/queries/count-run-today';
import { ApiError } from './api-error';

/**
 * Counts a new run in the tenant's day (UTC) and refuses it beyond the runsPerDay quota. Runs in the
 * start's transaction, so a refused run is not created.
 */
export async function countRunAgainstQuota(tx: Tx, tenant: { id: string; quotas: Pick<Quotas, 'runsPerDay'> }): Promise<void> {
  const runs = await countRunToday(tx, { tenantId: tenant.id });
  const limit = tenant.quotas.runsPerDay;
  if (limit !== null && runs > limit) {
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const retryAfter = Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
    throw new ApiError('AIQ_QUOTA_EXCEEDED', `the tenant has started ${limit} runs today, its plan's runsPerDay`, {
      extensions: { quota: 'runsPerDay', limit },
      headers: { 'retry-after': String(retryAfter) },
    });
  }
}
