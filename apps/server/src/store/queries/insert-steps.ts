import type { StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

export interface NewStep {
  scope: string;
  nodeId: string;
  attempt: number;
  status: StepStatus;
}

/** Inserts step attempts of one run in one statement. A skipped step is finished at once. */
export async function insertSteps(
  tx: Tx,
  args: { tenantId: string; runId: string; steps: readonly NewStep[] },
): Promise<void> {
  if (args.steps.length === 0) return;
  await tx.query(
    `INSERT INTO steps (tenant_id, run_id, scope, node_id, attempt, status, finished_at)
     SELECT $1, $2, s.scope, s.node_id, s.attempt, s.status,
            CASE WHEN s.status IN ('skipped', 'cancelled') THEN now() END
       FROM unnest($3::text[], $4::text[], $5::int[], $6::text[]) AS s(scope, node_id, attempt, status)`,
    [
      args.tenantId,
      args.runId,
      args.steps.map((s) => s.scope),
      args.steps.map((s) => s.nodeId),
      args.steps.map((s) => s.attempt),
      args.steps.map((s) => s.status),
    ],
  );
}
