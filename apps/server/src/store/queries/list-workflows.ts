import type { Tx } from '../database';
import { WORKFLOW_COLUMNS, type WorkflowRecord } from './get-workflow';

/** Live workflows, newest first, after the cursor id. */
export async function listWorkflows(
  tx: Tx,
  args: { tenantId: string; limit: number; after?: string | undefined; active?: boolean | undefined; name?: string | undefined },
): Promise<WorkflowRecord[]> {
  const { rows } = await tx.query<WorkflowRecord>(
    `SELECT ${WORKFLOW_COLUMNS} FROM workflows w
      WHERE w.tenant_id = $1 AND w.deleted_at IS NULL
        AND ($2::uuid IS NULL OR w.id < $2) AND ($3::boolean IS NULL OR w.active = $3)
        AND ($4::text IS NULL OR w.name = $4)
      ORDER BY w.id DESC LIMIT $5`,
    [args.tenantId, args.after ?? null, args.active ?? null, args.name ?? null, args.limit],
  );
  return rows;
}
