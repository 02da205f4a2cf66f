import type { StepState } from '@automateiq/core';
import type { Tx } from '../database';
import { loadRunsSteps } from './load-runs-steps';
import type { RunHead } from './lock-runs';

/** A run as a worker performs its steps: its head (see `RunHead`) and the latest attempt of every step. */
export interface RunContext extends RunHead {
  /** Latest attempt of every step, as of `revision`. */
  steps: StepState[];
}

/** What a worker needs to perform steps of some runs of one tenant: input, trigger, every step's latest state. */
export async function loadRunContexts(
  tx: Tx,
  args: { tenantId: string; runIds: readonly string[] },
): Promise<Map<string, RunContext>> {
  const runIds = [...new Set(args.runIds)];
  const { rows } = await tx.query<Omit<RunContext, 'steps'>>({
    name: 'aiq_load_run_contexts',
    text: `SELECT id, workflow_id AS "workflowId", version, status, priority, input, trigger, started_at AS "startedAt", depth, revision
       FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    values: [args.tenantId, runIds],
  });
  const steps = await loadRunsSteps(tx, { tenantId: args.tenantId, runIds });
  return new Map(
    rows.map((run) => [run.id, { ...run, revision: Number(run.revision), steps: steps.get(run.id) ?? [] }]),
  );
}
