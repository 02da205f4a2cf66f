import type { Tx } from '../store/database';
import { countRunsToday, uncountRunsToday } from '../store/queries/count-run-today';

/** A run refused by the tenant's runsPerDay quota; the quota renews at midnight UTC. */
export class RunsPerDayExceededError extends Error {
  override name = 'RunsPerDayExceededError';
  /** Seconds until midnight UTC, at least 1. */
  readonly retryAfterSeconds: number;

  constructor(readonly limit: number) {
    super(`the tenant has started ${limit} runs today, its plan's runsPerDay`);
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    this.retryAfterSeconds = Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
  }
}

/**
 * Counts `runs` new runs in the tenant's day (UTC) and answers how many of them, the last ones, go
 * beyond its runsPerDay quota (`limit`; null: none): those are taken back out of the count, and the
 * caller refuses them (`RunsPerDayExceededError`). Runs in the start's transaction, so refused runs
 * are never seen. Every start path counts its runs here (engine/run-starter.ts).
 */
export async function countRunsAgainstRunsPerDay(
  tx: Tx,
  args: { tenantId: string; limit: number | null; runs: number },
): Promise<number> {
  if (args.runs === 0) return 0;
  const { total, shard } = await countRunsToday(tx, { tenantId: args.tenantId, runs: args.runs });
  if (args.limit === null || total <= args.limit) return 0;
  const refused = Math.min(args.runs, total - args.limit);
  await uncountRunsToday(tx, { tenantId: args.tenantId, shard, runs: refused });
  return refused;
}
