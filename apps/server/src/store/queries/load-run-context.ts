import type { RunStatus, StepState } from '@automateiq/core';
import type { Tx } from '../database';
import { loadRunsSteps } from './load-runs-steps';

export interface RunContext {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  priority: number;
  input: unknown;
  trigger: Record<string, unknown>;
  startedAt: Date | null;
  /** Latest attempt of every step. */
  steps: StepState[];
}

/** What a worker needs to perform a step: the run's input and trigger, and every step's latest state. */
export async function loadRunContext(
  tx: Tx,
  args: { tenantId: string; runId: string },
): Promise<RunContext | undefined> {
  const { rows } = await tx.query<Omit<RunContext, 'steps'>>(
    `SELECT id, workflow_id AS "workflowId", version, status, priority, input, trigger, started_at AS "startedAt"
       FROM runs WHERE tenant_id = $1 AND id = $2`,
    [args.tenantId, args.runId],
  );
  const run = rows[0];
  if (!run) return undefined;
  return {
    ...run,
    steps: (await loadRunsSteps(tx, { tenantId: args.tenantId, runIds: [args.runId] })).get(args.runId) ?? [],
  };
}
