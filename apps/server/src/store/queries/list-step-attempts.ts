import type { StepError, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

export interface StepAttemptRow {
  scope: string;
  nodeId: string;
  attempt: number;
  status: StepStatus;
  port: string | null;
  output: unknown;
  error: StepError | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Every attempt of every step of a run, in the order they were created. */
export async function listStepAttempts(
  tx: Tx,
  args: { tenantId: string; runId: string },
): Promise<StepAttemptRow[]> {
  const { rows } = await tx.query<StepAttemptRow>(
    `SELECT scope, node_id AS "nodeId", attempt, status, port, output, error,
            started_at AS "startedAt", finished_at AS "finishedAt"
       FROM steps WHERE tenant_id = $1 AND run_id = $2
      ORDER BY created_at, scope, node_id, attempt`,
    [args.tenantId, args.runId],
  );
  return rows;
}
