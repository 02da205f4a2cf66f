import type { WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../database';

export interface WorkflowHead {
  id: string;
  latestVersion: number;
  definition: WorkflowDefinition;
}

/** The live (not deleted) workflow of the tenant with that name, with its latest definition. */
export async function findWorkflowByName(
  tx: Tx,
  tenantId: string,
  name: string,
): Promise<WorkflowHead | undefined> {
  const { rows } = await tx.query<{ id: string; latest_version: number; definition: WorkflowDefinition }>(
    `SELECT w.id, w.latest_version, v.definition
       FROM workflows w
       JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id AND v.version = w.latest_version
      WHERE w.tenant_id = $1 AND w.name = $2 AND w.deleted_at IS NULL
      ORDER BY w.created_at LIMIT 1`,
    [tenantId, name],
  );
  const row = rows[0];
  return row && { id: row.id, latestVersion: row.latest_version, definition: row.definition };
}
