import type { RunStatus, StepError } from '@automateiq/core';
import type { Tx } from '../database';

export interface RunRow {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  trigger: Record<string, unknown>;
  input: unknown;
  output: unknown;
  error: StepError | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export async function getRun(tx: Tx, args: { tenantId: string; runId: string }): Promise<RunRow | undefined> {
  const { rows } = await tx.query<RunRow>(
    `SELECT id, workflow_id AS "workflowId", version, status, trigger, input, output, error,
            created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
       FROM runs WHERE tenant_id = $1 AND id = $2`,
    [args.tenantId, args.runId],
  );
  return rows[0];
}
