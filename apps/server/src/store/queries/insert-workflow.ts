import type { WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../database';

/** Creates a workflow with its first version. */
export async function insertWorkflow(
  tx: Tx,
  args: { tenantId: string; id: string; definition: WorkflowDefinition },
): Promise<void> {
  await tx.query(
    'INSERT INTO workflows (tenant_id, id, name, description, latest_version) VALUES ($1, $2, $3, $4, 1)',
    [args.tenantId, args.id, args.definition.name, args.definition.description ?? null],
  );
  await tx.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [args.tenantId, args.id, JSON.stringify(args.definition)],
  );
}
