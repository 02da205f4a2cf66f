import type { RunStatus } from '@automateiq/core';
import type { Tx } from '../store/database';
import { cancelSteps } from '../store/queries/cancel-steps';
import type { ClaimedJob } from '../store/queries/claim-jobs';
import { finishRuns, type RunEnd } from '../store/queries/finish-runs';
import { insertStepsAndJobs, type NewJob, type NewStep } from '../store/queries/insert-steps-and-jobs';
import { recordStepAttempts, type StepAttemptRecord } from '../store/queries/record-step-attempts';
import { updateRunsStatus } from '../store/queries/update-runs-status';

/**
 * The writes that advancing some runs of one tenant comes to, gathered so that each kind is one
 * statement whatever the number of runs and steps.
 */
export class RunMutations {
  readonly records: StepAttemptRecord[] = [];
  readonly steps: NewStep[] = [];
  readonly jobs: NewJob[] = [];
  readonly cancels: { runId: string; scope: string; nodeId: string }[] = [];
  readonly ends: RunEnd[] = [];
  readonly statuses: { runId: string; status: RunStatus }[] = [];
  /** Runs with a step running in some worker that must be aborted. */
  readonly aborts = new Set<string>();

  /** Performs the writes in the caller's transaction; returns the jobs the worker took. */
  async apply(
    tx: Tx,
    args: { tenantId: string; worker?: { id: string; leaseMs: number } | undefined },
  ): Promise<ClaimedJob[]> {
    const { tenantId } = args;
    await recordStepAttempts(tx, { tenantId, records: this.records });
    await cancelSteps(tx, { tenantId, steps: this.cancels });
    const taken = await insertStepsAndJobs(tx, {
      tenantId,
      steps: this.steps,
      jobs: this.jobs,
      worker: args.worker,
    });
    await finishRuns(tx, { tenantId, ends: this.ends });
    await updateRunsStatus(tx, { tenantId, changes: this.statuses });
    for (const runId of this.aborts) await tx.query("SELECT pg_notify('aiq_cancel', $1)", [runId]);
    return taken;
  }
}
