import type { Tx } from '../database';

/** How many sub-workflow runs a run has started. */
export async function countChildRuns(tx: Tx, args: { tenantId: string; runId: string }): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND parent_run_id = $2',
    [args.tenantId, args.runId],
  );
  return rows[0]?.n ?? 0;
}
