import type { StepError, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

/** One step attempt as a run's log tells it: its times and outcome, never its input or output. */
export interface StepTimelineRow {
  scope: string;
  nodeId: string;
  attempt: number;
  status: StepStatus;
  port: string | null;
  error: StepError | null;
  /** `flow.forEach` only: its number of items. */
  itemCount: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Every attempt of every step of a run, in the order they were created. */
export async function listStepTimeline(
  tx: Tx,
  args: { tenantId: string; runId: string },
): Promise<StepTimelineRow[]> {
  const { rows } = await tx.query<StepTimelineRow>(
    `SELECT scope, node_id AS "nodeId", attempt, status, port, error, item_count AS "itemCount",
            created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"
       FROM steps WHERE tenant_id = $1 AND run_id = $2
      ORDER BY created_at, scope, node_id, attempt`,
    [args.tenantId, args.runId],
  );
  return rows;
}
