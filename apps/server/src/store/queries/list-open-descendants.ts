import type { Tx } from '../database';

/** The unfinished runs below a run in its tree of sub-workflow runs (children, their children, …). */
export async function listOpenDescendants(tx: Tx, args: { tenantId: string; runId: string }): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `WITH RECURSIVE tree AS (
       SELECT id, status FROM runs WHERE tenant_id = $1 AND parent_run_id = $2
       UNION ALL
       SELECT r.id, r.status FROM runs r JOIN tree t ON r.parent_run_id = t.id WHERE r.tenant_id = $1
     )
     SELECT id FROM tree WHERE status NOT IN ('succeeded', 'failed', 'cancelled')`,
    [args.tenantId, args.runId],
  );
  return rows.map((r) => r.id);
}
