import type { Tx } from '../database';

/** A live workflow named by a flow.subworkflow node. */
export interface WorkflowTarget {
  id: string;
  latestVersion: number;
  active: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tenant's live workflow with this id or, failing that, this name. */
export async function findWorkflowTarget(tx: Tx, args: { tenantId: string; workflow: string }): Promise<WorkflowTarget | undefined> {
  const { rows } = await tx.query<WorkflowTarget>(
    `SELECT id, latest_version AS "latestVersion", active FROM workflows
      WHERE tenant_id = $1 AND deleted_at IS NULL AND (${UUID.test(args.workflow) ? 'id = $2::uuid OR ' : ''}name = $2::text)
      ORDER BY (name = $2::text)
      LIMIT 1`,
    [args.tenantId, args.workflow],
  );
  return rows[0];
}
