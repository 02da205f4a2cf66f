import type { Tx } from '../database';

/** Deletes the timeout job of a step attempt that no longer waits. */
export async function deleteTimeoutJob(
  tx: Tx,
  args: { tenantId: string; runId: string; scope: string; nodeId: string; attempt: number },
): Promise<void> {
  await tx.query(
    `DELETE FROM jobs WHERE tenant_id = $1 AND run_id = $2 AND kind = 'timeout' AND scope = $3 AND node_id = $4 AND attempt = $5`,
    [args.tenantId, args.runId, args.scope, args.nodeId, args.attempt],
  );
}
