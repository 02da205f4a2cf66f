import type { Tx } from '../database';

/** Runs of the tenant holding a slot of its concurrentRuns quota now (0 when none ever did). */
export async function getTenantActiveRuns(tx: Tx, args: { tenantId: string }): Promise<number> {
  const { rows } = await tx.query<{ active: number }>(
    "SELECT active FROM concurrency_slots WHERE tenant_id = $1 AND key = 'tenant'",
    [args.tenantId],
  );
  return rows[0]?.active ?? 0;
}
