import type { WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../database';

/** The definition of one immutable workflow version. */
export async function getWorkflowVersion(
  tx: Tx,
  args: { tenantId: string; workflowId: string; version: number },
): Promise<WorkflowDefinition | undefined> {
  const { rows } = await tx.query<{ definition: WorkflowDefinition }>(
    'SELECT definition FROM workflow_versions WHERE tenant_id = $1 AND workflow_id = $2 AND version = $3',
    [args.tenantId, args.workflowId, args.version],
  );
  return rows[0]?.definition;
}
