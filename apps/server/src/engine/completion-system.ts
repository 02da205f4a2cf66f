import { compileRetryPolicy, graphOfScope, mergeRetry, retryDelayMs, type StepError } from '@automateiq/core';
import type { Database, Tx } from '../store/database';
import { cancelOpenSteps } from '../store/queries/cancel-open-steps';
import type { ClaimedJob } from '../store/queries/claim-jobs';
import { deleteRunJobs } from '../store/queries/delete-run-jobs';
import { insertJobs } from '../store/queries/insert-jobs';
import { insertSteps } from '../store/queries/insert-steps';
import { loadRunSteps } from '../store/queries/load-run-steps';
import { type LockedRun, lockRun } from '../store/queries/lock-run';
import { recordStepAttempt } from '../store/queries/record-step-attempt';
import { takeClaimedJob } from '../store/queries/take-claimed-job';
import { updateRunStatus } from '../store/queries/update-run-status';
import { type AppliedPlan, planAndApply } from './plan-applier';
import type { StepResult } from './step-runner';
import type { LoadedWorkflow } from './workflow-cache';

export interface CompletionDeps {
  db: Database;
  workerId: string;
  random?: () => number;
  now?: () => number;
}

/** What recording a result led to, for the worker (wake-ups, aborts) and observers. */
export interface Completion {
  /** False when the job was no longer this worker's (lease lost) or the run was over: nothing was recorded. */
  recorded: boolean;
  plan?: AppliedPlan;
  /** A retry was scheduled at this epoch ms. */
  retryAt?: number;
}

const FINAL_RUN = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Records the result of a claimed job and everything it unlocks, in one transaction: the step's
 * attempt, its retry or the nodes now ready, or the run's end. A crash before the commit leaves the
 * job claimed (its lease runs out and it is run again); after, the new state.
 */
export async function completeStep(
  deps: CompletionDeps,
  args: { job: ClaimedJob; workflow: LoadedWorkflow; result: StepResult },
): Promise<Completion> {
  const { job, workflow, result } = args;
  const { tenantId, runId } = job;
  return deps.db.withTenant(tenantId, async (tx) => {
    const run = await takeJobAndLockRun(tx, deps, job);
    if (!run) return { recorded: false };
    const step = { tenantId, runId, scope: job.scope, nodeId: job.nodeId, attempt: job.attempt };
    switch (result.kind) {
      case 'succeeded':
        await recordStepAttempt(tx, {
          ...step,
          result: { status: 'succeeded', output: result.output, port: result.port },
        });
        break;
      case 'waiting':
        await recordStepAttempt(tx, { ...step, result: { status: 'waiting', output: result.output } });
        await insertJobs(tx, {
          tenantId,
          runId,
          priority: run.priority,
          jobs: [
            {
              kind: 'resume',
              scope: job.scope,
              nodeId: job.nodeId,
              attempt: job.attempt,
              availableAt: result.until,
            },
          ],
        });
        break;
      case 'forEach':
        await recordStepAttempt(tx, {
          ...step,
          result: {
            status: 'running',
            output: result.items,
            itemCount: result.items.length,
            concurrency: result.concurrency,
          },
        });
        break;
      case 'failed': {
        const retryAt = retryTime(deps, workflow, job, result.error);
        await recordStepAttempt(tx, { ...step, result: { status: 'failed', error: result.error } });
        if (retryAt !== undefined) {
          const next = { scope: job.scope, nodeId: job.nodeId, attempt: job.attempt + 1 };
          await insertSteps(tx, { tenantId, runId, steps: [{ ...next, status: 'pending' }] });
          await insertJobs(tx, {
            tenantId,
            runId,
            priority: run.priority,
            jobs: [{ kind: 'step', ...next, availableAt: retryAt }],
          });
          return { recorded: true, retryAt };
        }
        break;
      }
    }
    const plan = await replan(tx, { tenantId, run, workflow });
    return { recorded: true, plan };
  });
}

/** A `resume` job: the wait of a waiting step is over; it succeeds with the output it keeps. */
export async function completeWait(
  deps: CompletionDeps,
  args: { job: ClaimedJob; workflow: LoadedWorkflow },
): Promise<Completion> {
  const { job, workflow } = args;
  const { tenantId, runId } = job;
  return deps.db.withTenant(tenantId, async (tx) => {
    const run = await takeJobAndLockRun(tx, deps, job);
    if (!run) return { recorded: false };
    const { rows } = await tx.query<{ output: unknown }>(
      `SELECT output FROM steps WHERE tenant_id = $1 AND run_id = $2 AND scope = $3 AND node_id = $4 AND attempt = $5 AND status = 'waiting'`,
      [tenantId, runId, job.scope, job.nodeId, job.attempt],
    );
    if (rows.length === 0) return { recorded: false };
    await recordStepAttempt(tx, {
      tenantId,
      runId,
      scope: job.scope,
      nodeId: job.nodeId,
      attempt: job.attempt,
      result: { status: 'succeeded', output: rows[0]?.output },
    });
    return { recorded: true, plan: await replan(tx, { tenantId, run, workflow }) };
  });
}

/** A `deadline` job: the run's timeout has come; an unfinished run fails with RUN_TIMEOUT. */
export async function expireRun(deps: CompletionDeps, job: ClaimedJob): Promise<Completion> {
  const error: StepError = {
    code: 'RUN_TIMEOUT',
    message: 'the run did not finish within its timeout',
    retryable: false,
  };
  return failRun(deps, job, error);
}

/** A job claimed too many times: its worker keeps dying on it, so its step fails instead of looping. */
export async function abandonStep(
  deps: CompletionDeps,
  args: { job: ClaimedJob; workflow: LoadedWorkflow },
): Promise<Completion> {
  const { job } = args;
  return completeStep(deps, {
    ...args,
    result: {
      kind: 'failed',
      error: {
        code: 'WORKER_LOST',
        message: `the step's worker was lost ${job.claims - 1} times; it is not tried again`,
        retryable: false,
      },
    },
  });
}

async function failRun(deps: CompletionDeps, job: ClaimedJob, error: StepError): Promise<Completion> {
  const { tenantId, runId } = job;
  return deps.db.withTenant(tenantId, async (tx) => {
    const run = await takeJobAndLockRun(tx, deps, job);
    if (!run) return { recorded: false };
    const { running } = await cancelOpenSteps(tx, { tenantId, runId });
    await deleteRunJobs(tx, { tenantId, runId });
    await updateRunStatus(tx, { tenantId, runId, status: 'failed', error });
    if (running > 0) await tx.query("SELECT pg_notify('aiq_cancel', $1)", [runId]);
    return {
      recorded: true,
      plan: {
        status: 'failed',
        outcome: { status: 'failed', error },
        abortRunning: running > 0,
        readyJobs: 0,
      },
    };
  });
}

async function takeJobAndLockRun(
  tx: Tx,
  deps: CompletionDeps,
  job: ClaimedJob,
): Promise<LockedRun | undefined> {
  const taken = await takeClaimedJob(tx, { tenantId: job.tenantId, jobId: job.id, workerId: deps.workerId });
  if (!taken) return undefined;
  const run = await lockRun(tx, { tenantId: job.tenantId, runId: job.runId });
  if (!run || FINAL_RUN.has(run.status)) return undefined;
  return run;
}

async function replan(
  tx: Tx,
  args: { tenantId: string; run: LockedRun; workflow: LoadedWorkflow },
): Promise<AppliedPlan> {
  const { tenantId, run } = args;
  const state = { steps: await loadRunSteps(tx, { tenantId, runId: run.id }) };
  const plan = await planAndApply(tx, {
    tenantId,
    runId: run.id,
    priority: run.priority,
    workflow: args.workflow.compiled,
    state,
    currentStatus: run.status,
  });
  if (plan.abortRunning) await tx.query("SELECT pg_notify('aiq_cancel', $1)", [run.id]);
  return plan;
}

/** When the failed attempt is retried (epoch ms), or undefined when it is final. */
function retryTime(
  deps: CompletionDeps,
  workflow: LoadedWorkflow,
  job: ClaimedJob,
  error: StepError,
): number | undefined {
  if (!error.retryable) return undefined;
  const node = graphOfScope(workflow.compiled, job.scope).nodes.get(job.nodeId);
  const policy = compileRetryPolicy(mergeRetry(workflow.definition.settings?.retry, node?.retry));
  if (job.attempt >= policy.attempts) return undefined;
  const delay = retryDelayMs(policy, { attempt: job.attempt, random: (deps.random ?? Math.random)() });
  const retryAfter = retryAfterMs(error);
  return (deps.now ?? Date.now)() + Math.max(delay, retryAfter);
}

function retryAfterMs(error: StepError): number {
  const details = error.details;
  if (typeof details !== 'object' || details === null || !('retryAfterMs' in details)) return 0;
  return typeof details.retryAfterMs === 'number' ? details.retryAfterMs : 0;
}
