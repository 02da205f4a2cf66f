import type { Tx } from '../database';

/** Activates, deactivates or deletes (marks deleted) a live workflow; false when there is none. */
export async function updateWorkflowState(
  tx: Tx,
  args: { tenantId: string; workflowId: string; change: 'activate' | 'deactivate' | 'delete' },
): Promise<boolean> {
  const set = {
    activate: 'active = true',
    deactivate: 'active = false',
    delete: 'active = false, deleted_at = now()',
  }[args.change];
  const { rowCount } = await tx.query(
    `UPDATE workflows SET ${set}, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [args.tenantId, args.workflowId],
  );
  return rowCount === 1;
}
