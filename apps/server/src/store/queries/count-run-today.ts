import type { Tx } from '../database';

/** Shards of a tenant's daily run counter (see migration 0009). */
export const USAGE_SHARDS = 16;

/**
 * Adds `runs` runs to the tenant's count for today (UTC), in one shard picked at random, and returns
 * the day's total, these runs included, and the shard (to take runs back from). The other shards are
 * read without locks, so concurrent starts may each see a total short of the others' uncommitted runs:
 * the quota holds within that margin.
 */
export async function countRunsToday(tx: Tx, args: { tenantId: string; runs: number }): Promise<{ total: number; shard: number }> {
  const shard = Math.floor(Math.random() * USAGE_SHARDS);
  const { rows } = await tx.query<{ total: number }>({
    name: 'aiq_count_runs_today',
    text: `WITH bump AS (
       INSERT INTO usage_daily (tenant_id, day, shard, runs) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $2, $3)
       ON CONFLICT (tenant_id, day, shard) DO UPDATE SET runs = usage_daily.runs + $3
       RETURNING runs)
     SELECT ((SELECT runs FROM bump) + coalesce((SELECT sum(runs) FROM usage_daily
               WHERE tenant_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date AND shard <> $2), 0))::int AS total`,
    values: [args.tenantId, shard, args.runs],
  });
  return { total: rows[0]?.total ?? 0, shard };
}

/** Takes back runs that `countRunsToday` counted in `shard` (runs refused after all), in the same transaction. */
export async function uncountRunsToday(tx: Tx, args: { tenantId: string; shard: number; runs: number }): Promise<void> {
  await tx.query(
    `UPDATE usage_daily SET runs = runs - $3 WHERE tenant_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date AND shard = $2`,
    [args.tenantId, args.shard, args.runs],
  );
}
