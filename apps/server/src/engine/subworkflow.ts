import type { StepError } from '@automateiq/core';
import type { Tx } from '../store/database';
import { countChildRuns } from '../store/queries/count-child-runs';
import { findChildRun } from '../store/queries/find-child-run';
import { findWorkflowTarget } from '../store/queries/find-workflow-target';
import type { AttemptKey, AttemptResult } from '../store/queries/apply-run-changes';
import type { RunHead } from '../store/queries/lock-runs';
import { RunsPerDayExceededError } from '../tenancy/runs-per-day';
import { tenantRunsPerDay } from './admission';
import { createRun } from './run-starter';
import type { WorkflowCache } from './workflow-cache';

/** How deep a tree of sub-workflow runs may grow (a top run is at depth 0). */
export const MAX_SUBWORKFLOW_DEPTH = 8;
/** How many sub-workflow runs one run may start. */
export const MAX_CHILD_RUNS = 1_000;

const fatal = (code: string, message: string, details?: Record<string, unknown>): StepError => ({
  code,
  message,
  retryable: false,
  ...(details ? { details } : {}),
});

/**
 * Starts the run of a flow.subworkflow step in the completing transaction: the tenant's workflow
 * named by id or name (a pinned version, else the latest of an active workflow), with the step as its
 * parent, one level deeper, at most `MAX_CHILD_RUNS` per run and `MAX_SUBWORKFLOW_DEPTH` deep. The
 * child runs under its parent's share of the tenant's concurrency (no slot of its own, so a parent
 * never waits for a slot its own children need). Returns what the parent's step becomes: waiting
 * for the child, or failed. A completion retried after a crash finds the child it started
 * (idempotency key per step attempt).
 */
export async function startChildRun(
  tx: Tx,
  args: {
    tenantId: string;
    workflows: WorkflowCache;
    parent: RunHead;
    attempt: AttemptKey;
    workflow: string;
    version?: number | undefined;
    input: unknown;
  },
): Promise<AttemptResult> {
  const { tenantId, parent, attempt } = args;
  const target = await findWorkflowTarget(tx, { tenantId, workflow: args.workflow });
  if (!target) return { status: 'failed', error: fatal('SUBWORKFLOW_NOT_FOUND', `the tenant has no workflow "${args.workflow}"`) };
  if (args.version === undefined && !target.active)
    return { status: 'failed', error: fatal('SUBWORKFLOW_INACTIVE', `workflow "${args.workflow}" is not active (activate it, or pin a version)`) };
  const version = args.version ?? target.latestVersion;
  if (version > target.latestVersion)
    return { status: 'failed', error: fatal('SUBWORKFLOW_NOT_FOUND', `workflow "${args.workflow}" has no version ${version}`) };
  if (parent.depth + 1 > MAX_SUBWORKFLOW_DEPTH)
    return { status: 'failed', error: fatal('SUBWORKFLOW_TOO_DEEP', `sub-workflows nest at most ${MAX_SUBWORKFLOW_DEPTH} deep`) };
  if ((await countChildRuns(tx, { tenantId, runId: parent.id })) >= MAX_CHILD_RUNS)
    return { status: 'failed', error: fatal('SUBWORKFLOW_TOO_MANY', `a run starts at most ${MAX_CHILD_RUNS} sub-workflow runs`) };
  const workflow = await args.workflows.get({ tenantId, workflowId: target.id, version }, tx);
  const started = await createRun(tx, {
    request: {
      tenantId,
      workflowId: target.id,
      version,
      tenantConcurrencyQuota: null,
      input: args.input ?? null,
      trigger: { type: 'subworkflow', parentRunId: parent.id, parentNodeId: attempt.nodeId, input: args.input ?? null },
      idempotencyKey: `subworkflow:${parent.id}:${attempt.scope}:${attempt.nodeId}:${attempt.attempt}`,
      parent: { runId: parent.id, scope: attempt.scope, nodeId: attempt.nodeId, attempt: attempt.attempt, depth: parent.depth + 1 },
      // A child run is a run of the tenant's day like any other.
      runsPerDay: { limit: await tenantRunsPerDay(tx, tenantId) },
    },
    workflow,
  }).catch((error: unknown) => {
    if (error instanceof RunsPerDayExceededError) return error;
    throw error;
  });
  if (started instanceof RunsPerDayExceededError)
    return { status: 'failed', error: fatal('RUNS_PER_DAY_EXCEEDED', `the sub-workflow run was refused: ${started.message}`) };
  return { status: 'waiting', output: { runId: started.runId, workflowId: target.id, version } };
}

/**
 * What a parent's flow.subworkflow step becomes once its child run ended: the child's output, or a
 * failure (SUBWORKFLOW_FAILED) carrying the child's error. Undefined while the child has not ended.
 */
export async function childRunResult(tx: Tx, args: { tenantId: string; attempt: AttemptKey }): Promise<AttemptResult | undefined> {
  const { attempt } = args;
  const child = await findChildRun(tx, { tenantId: args.tenantId, parentRunId: attempt.runId, ...attempt });
  if (!child) return { status: 'failed', error: fatal('SUBWORKFLOW_FAILED', 'the sub-workflow run is gone') };
  switch (child.status) {
    case 'succeeded':
      return { status: 'succeeded', output: child.output };
    case 'failed':
    case 'cancelled':
      return {
        status: 'failed',
        error: fatal(
          'SUBWORKFLOW_FAILED',
          `the sub-workflow run ${child.id} ${child.status}${child.error ? `: ${child.error.message}` : ''}`,
          { runId: child.id, status: child.status, ...(child.error ? { error: child.error } : {}) },
        ),
      };
    default:
      return undefined;
  }
}
