import type { Tx } from '../database';

/**
 * Cancels the open steps of a run (all of them, or those of one node in one scope, or every scope
 * under a prefix) and deletes their jobs. Returns how many steps were running, so that the caller
 * knows whether a worker must be told to abort.
 */
export async function cancelOpenSteps(
  tx: Tx,
  args: { tenantId: string; runId: string; only?: { scope: string; nodeId: string } | undefined },
): Promise<{ running: number }> {
  const filter = args.only ? 'AND scope = $3 AND node_id = $4' : '';
  const params: unknown[] = [args.tenantId, args.runId];
  if (args.only) params.push(args.only.scope, args.only.nodeId);
  const { rows } = await tx.query<{ was_running: boolean }>(
    `WITH cancelled AS (
       UPDATE steps s SET status = 'cancelled', finished_at = now()
         FROM (SELECT scope, node_id, attempt, status FROM steps
                WHERE tenant_id = $1 AND run_id = $2 ${filter} AND status IN ('pending', 'running', 'waiting')
                FOR UPDATE) o
        WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.scope = o.scope AND s.node_id = o.node_id AND s.attempt = o.attempt
       RETURNING o.status = 'running' AS was_running
     ), gone AS (
       DELETE FROM jobs WHERE tenant_id = $1 AND run_id = $2 ${filter} AND kind <> 'deadline'
     )
     SELECT was_running FROM cancelled`,
    params,
  );
  return { running: rows.filter((r) => r.was_running).length };
}
