import type { TenantContext } from '../security/principal';
import type { Tx } from '../store/database';
import { ApiError } from './api-error';

/**
 * Counts a new run in the tenant's day (UTC) and refuses it beyond the runsPerDay quota. Runs in the
 * start's transaction, so a refused run is not created.
 */
export async function countRunAgainstQuota(tx: Tx, tenant: TenantContext): Promise<void> {
  const { rows } = await tx.query<{ runs: number }>(
    `INSERT INTO usage_daily (tenant_id, day, runs) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)
     ON CONFLICT (tenant_id, day) DO UPDATE SET runs = usage_daily.runs + 1 RETURNING runs`,
    [tenant.id],
  );
  const limit = tenant.quotas.runsPerDay;
  const runs = rows[0]?.runs ?? 0;
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
