import type { StepError, StepState, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

/** The latest attempt of every step of a run: the planner's state, and the outputs expressions read. */
export async function loadRunSteps(tx: Tx, args: { tenantId: string; runId: string }): Promise<StepState[]> {
  const { rows } = await tx.query<{
    scope: string;
    node_id: string;
    attempt: number;
    status: StepStatus;
    port: string | null;
    output: unknown;
    error: StepError | null;
    item_count: number | null;
    concurrency: number | null;
  }>(
    `SELECT DISTINCT ON (scope, node_id) scope, node_id, attempt, status, port, output, error, item_count, concurrency
       FROM steps WHERE tenant_id = $1 AND run_id = $2
      ORDER BY scope, node_id, attempt DESC`,
    [args.tenantId, args.runId],
  );
  return rows.map((r) => {
    const step: StepState = { scope: r.scope, nodeId: r.node_id, status: r.status, attempt: r.attempt };
    if (r.output !== null) step.output = r.output;
    if (r.error !== null) step.error = r.error;
    if (r.port !== null) step.port = r.port;
    if (r.item_count !== null) step.itemCount = r.item_count;
    if (r.concurrency !== null) step.concurrency = r.concurrency;
    return step;
  });
}
