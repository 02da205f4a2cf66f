import type { WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../database';

/** Adds the next immutable version of a (live) workflow and returns its number; undefined: no such workflow. */
export async function insertWorkflowVersion(
  tx: Tx,
  args: { tenantId: string; workflowId: string; definition: WorkflowDefinition },
): Promise<number | undefined> {
  const { rows } = await tx.query<{ latest_version: number }>(
    `UPDATE workflows SET latest_version = latest_version + 1, name = $3, description = $4, updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING latest_version`,
    [args.tenantId, args.workflowId, args.definition.name, args.definition.description ?? null],
  );
  const version = rows[0]?.latest_version;
  if (version === undefined) return undefined;
  await tx.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, $3, $4)',
    [args.tenantId, args.workflowId, version, JSON.stringify(args.definition)],
  );
  return version;
}
