import type { Tx } from '../database';

/** Cancels the open attempts of some steps (of any runs of one tenant) and deletes their jobs, in one statement. */
export async function cancelSteps(
  tx: Tx,
  args: { tenantId: string; steps: readonly { runId: string; scope: string; nodeId: string }[] },
): Promise<void> {
  if (args.steps.length === 0) return;
  const s = args.steps;
  await tx.query(
    `WITH target AS (
       SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[]) AS t(run_id, scope, node_id)
     ), cancelled AS (
       UPDATE steps s SET status = 'cancelled', finished_at = now()
         FROM target t
        WHERE s.tenant_id = $1 AND s.run_id = t.run_id AND s.scope = t.scope AND s.node_id = t.node_id
          AND s.status IN ('pending', 'running', 'waiting')
     )
     DELETE FROM jobs j USING target t
      WHERE j.tenant_id = $1 AND j.run_id = t.run_id AND j.scope = t.scope AND j.node_id = t.node_id AND j.kind <> 'deadline'`,
    [args.tenantId, s.map((x) => x.runId), s.map((x) => x.scope), s.map((x) => x.nodeId)],
  );
}
