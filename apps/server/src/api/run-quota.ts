import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../store/database';
import { countRunAgainstRunsPerDay, RunsPerDayExceededError } from '../tenancy/runs-per-day';
import { ApiError } from './api-error';

/** `countRunAgainstRunsPerDay` for the API: a refusal is 429 AIQ_QUOTA_EXCEEDED with Retry-After. */
export async function countRunAgainstQuota(tx: Tx, tenant: { id: string; quotas: Pick<Quotas, 'runsPerDay'> }): Promise<void> {
  await countRunAgainstRunsPerDay(tx, tenant).catch((error: unknown) => {
    if (!(error instanceof RunsPerDayExceededError)) throw error;
    throw new ApiError('AIQ_QUOTA_EXCEEDED', error.message, {
      extensions: { quota: 'runsPerDay', limit: error.limit },
      headers: { 'retry-after': String(error.retryAfterSeconds) },
    });
  });
}
