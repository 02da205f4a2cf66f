import type { WorkflowDefinition } from '@automateiq/core';
import type { Tx } from '../database';

export interface WorkflowVersionRecord {
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  createdAt: Date;
}

/** A workflow's versions, newest first, below `before` (a version number), or just `version`. */
export async function listWorkflowVersions(
  tx: Tx,
  args: { tenantId: string; workflowId: string; limit: number; before?: number | undefined; version?: number | undefined },
): Promise<WorkflowVersionRecord[]> {
  const { rows } = await tx.query<WorkflowVersionRecord>(
    `SELECT workflow_id AS "workflowId", version, definition, created_at AS "createdAt"
       FROM workflow_versions
      WHERE tenant_id = $1 AND workflow_id = $2 AND ($3::int IS NULL OR version < $3) AND ($4::int IS NULL OR version = $4)
      ORDER BY version DESC LIMIT $5`,
    [args.tenantId, args.workflowId, args.before ?? null, args.version ?? null, args.limit],
  );
  return rows;
}
