import type { Quotas } from '@automateiq/contracts';
import type { Tx } from '../store/database';
import { countRunToday } from '../store/queries/count-run-today';

/** A run refused by the tenant's runsPerDay quota; the quota renews at midnight UTC. */
export class RunsPerDayExceededError extends Error {
  override name = 'RunsPerDayExceededError';
  constructor(
    readonly limit: number,
    /** Seconds until midnight UTC, at least 1. */
    readonly retryAfterSeconds: number,
  ) {
    super(`the tenant has started ${limit} runs today, its plan's runsPerDay`);
  }
}

/**
 * Counts a new run in the tenant's day (UTC) and throws `RunsPerDayExceededError` beyond its runsPerDay
 * quota. Runs in the start's transaction, so a refused run is not created. Every start path calls it.
 */
export async function countRunAgainstRunsPerDay(
  tx: Tx,
  tenant: { id: string; quotas: Pick<Quotas, 'runsPerDay'> },
): Promise<void> {
  const runs = await countRunToday(tx, { tenantId: tenant.id });
  const limit = tenant.quotas.runsPerDay;
  if (limit === null || runs <= limit) return;
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  throw new RunsPerDayExceededError(limit, Math.max(1, Math.ceil((midnight - now.getTime()) / 1000)));
}
