import type { WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../database';

export interface WorkflowRecord {
  id: string;
  name: string;
  description: string | null;
  version: number;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const WORKFLOW_COLUMNS = `w.id, w.name, w.description, w.latest_version AS version, w.active,
  w.created_at AS "createdAt", w.updated_at AS "updatedAt"`;

/** A live (not deleted) workflow with its latest definition; `forUpdate` locks its row. */
export async function getWorkflow(
  tx: Tx,
  args: { tenantId: string; workflowId: string; forUpdate?: boolean },
): Promise<(WorkflowRecord & { definition: WorkflowDefinition }) | undefined> {
  const { rows } = await tx.query<WorkflowRecord & { definition: WorkflowDefinition }>(
    `SELECT ${WORKFLOW_COLUMNS}, v.definition
       FROM workflows w
       JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id AND v.version = w.latest_version
      WHERE w.tenant_id = $1 AND w.id = $2 AND w.deleted_at IS NULL${args.forUpdate ? ' FOR UPDATE OF w' : ''}`,
    [args.tenantId, args.workflowId],
  );
  return rows[0];
}
