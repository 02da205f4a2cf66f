import type { StepError, StepState, StepStatus } from '@automateiq/core';
import type { Tx } from '../database';

/** The latest attempt of every step of some runs of one tenant: the planner's state, and what expressions read. */
export async function loadRunsSteps(
  tx: Tx,
  args: { tenantId: string; runIds: readonly string[] },
): Promise<Map<string, StepState[]>> {
  const byRun = new Map<string, StepState[]>(args.runIds.map((id) => [id, []]));
  if (args.runIds.length === 0) return byRun;
  const { rows } = await tx.query<{
    run_id: string;
    scope: string;
    node_id: string;
    attempt: number;
    status: StepStatus;
    port: string | null;
    output: unknown;
    error: StepError | null;
    item_count: number | null;
    concurrency: number | null;
  }>({
    name: 'aiq_load_runs_steps',
    text: `SELECT DISTINCT ON (run_id, scope, node_id) run_id, scope, node_id, attempt, status, port, output, error, item_count, concurrency
       FROM steps WHERE tenant_id = $1 AND run_id = ANY($2::uuid[])
      ORDER BY run_id, scope, node_id, attempt DESC`,
    values: [args.tenantId, args.runIds],
  });
  for (const r of rows) {
    const step: StepState = { scope: r.scope, nodeId: r.node_id, status: r.status, attempt: r.attempt };
    if (r.output !== null) step.output = r.output;
    if (r.error !== null) step.error = r.error;
    if (r.port !== null) step.port = r.port;
    if (r.item_count !== null) step.itemCount = r.item_count;
    if (r.concurrency !== null) step.concurrency = r.concurrency;
    byRun.get(r.run_id)?.push(step);
  }
  return byRun;
}
