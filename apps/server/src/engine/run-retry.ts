import type { RunStatus } from '@automateiq/core';
import type { Database } from '../store/database';
import { copySteps } from '../store/queries/copy-steps';
import { getRun } from '../store/queries/get-run';
import { loadRunsSteps } from '../store/queries/load-runs-steps';
import { keptSteps } from './kept-steps';
import { createRun, type StartRunRequest } from './run-starter';
import type { WorkflowCache } from './workflow-cache';

/** Runs that may be retried. */
export const RETRYABLE_RUN_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>(['failed', 'cancelled']);

export interface RetryRunRequest {
  tenantId: string;
  /** The failed or cancelled run to retry. */
  runId: string;
  /** The retry's audit record, written with the new run (see `StartRunRequest.audit`). */
  audit?: StartRunRequest['audit'];
  /** Counts the new run against this runsPerDay quota (see `StartRunRequest.runsPerDay`): refused, the retry throws `RunsPerDayExceededError`. */
  runsPerDay?: StartRunRequest['runsPerDay'];
}

export type RetryRunResult =
  /** The new run, its status after the start, and how many of the original's steps it kept. */
  | { kind: 'started'; runId: string; status: RunStatus; kept: number }
  | { kind: 'notFound' }
  /** The run has not failed or been cancelled (it succeeded, or is still going). */
  | { kind: 'notRetryable'; status: RunStatus };

/**
 * Retries a failed or cancelled run from where it failed: a new run of the same workflow version and
 * input (trigger `{ type: 'retry', retryOf }`) that starts with the original's completed steps (see
 * `keptSteps`; every attempt of them is copied, outputs included), so that only the failed steps
 * (with fresh attempts) and what follows them run. One transaction; the original is left as it was.
 */
export async function retryRun(
  deps: { db: Database; workflows: WorkflowCache; now?: () => number },
  request: RetryRunRequest,
): Promise<RetryRunResult> {
  const { tenantId, runId } = request;
  return deps.db.withTenant(tenantId, async (tx) => {
    const original = await getRun(tx, { tenantId, runId });
    if (!original) return { kind: 'notFound' };
    if (!RETRYABLE_RUN_STATUSES.has(original.status)) return { kind: 'notRetryable', status: original.status };
    const { workflowId, version } = original;
    const workflow = await deps.workflows.get({ tenantId, workflowId, version }, tx);
    const latest = (await loadRunsSteps(tx, { tenantId, runIds: [runId] })).get(runId) ?? [];
    const kept = keptSteps(workflow.compiled, latest);
    const started = await createRun(tx, {
      request: {
        tenantId,
        workflowId,
        version,
        input: original.input,
        trigger: { type: 'retry', retryOf: runId },
        audit: request.audit,
        runsPerDay: request.runsPerDay,
      },
      workflow,
      now: deps.now,
      seed: async (own, newRunId) => {
        await copySteps(own, { tenantId, fromRunId: runId, toRunId: newRunId, steps: kept });
        return kept;
      },
    });
    return { kind: 'started', runId: started.runId, status: started.status, kept: kept.length };
  });
}
