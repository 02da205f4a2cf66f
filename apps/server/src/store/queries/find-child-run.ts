import type { RunStatus, StepError } from '@automateiq/core';
import type { Tx } from '../database';

/** The run a parent's step attempt started (flow.subworkflow), as the parent reads its end. */
export async function findChildRun(
  tx: Tx,
  args: { tenantId: string; parentRunId: string; scope: string; nodeId: string; attempt: number },
): Promise<{ id: string; status: RunStatus; output: unknown; error: StepError | null } | undefined> {
  const { rows } = await tx.query<{ id: string; status: RunStatus; output: unknown; error: StepError | null }>(
    `SELECT id, status, output, error FROM runs
      WHERE tenant_id = $1 AND parent_run_id = $2 AND parent_scope = $3 AND parent_node_id = $4 AND parent_attempt = $5`,
    [args.tenantId, args.parentRunId, args.scope, args.nodeId, args.attempt],
  );
  return rows[0];
}
