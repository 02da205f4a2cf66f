import {
  applyActions,
  assertNever,
  type CompiledWorkflow,
  type PlanAction,
  plan,
  type RunState,
  type RunStatus,
  type ScopeOutcome,
} from '@automateiq/core';
import type { Tx } from '../store/database';
import { cancelOpenSteps } from '../store/queries/cancel-open-steps';
import { deleteRunJobs } from '../store/queries/delete-run-jobs';
import { insertJobs, type NewJob } from '../store/queries/insert-jobs';
import { insertSteps, type NewStep } from '../store/queries/insert-steps';
import { recordStepAttempt } from '../store/queries/record-step-attempt';
import { updateRunStatus } from '../store/queries/update-run-status';

export interface AppliedPlan {
  /** The run's status after the plan. */
  status: RunStatus;
  /** Set when the run finished. */
  outcome?: ScopeOutcome;
  /** Steps running in some worker that must now be aborted (their run or scope ended early). */
  abortRunning: boolean;
  /** Jobs made ready now (workers should be woken). */
  readyJobs: number;
}

/**
 * Asks the planner what the run's state allows now and performs it in the caller's transaction:
 * new steps and their jobs, skips, forEach settlements, cancellations, and the run's end.
 * The run's row must be locked by the caller (lockRun), so no two plans of one run interleave.
 */
export async function planAndApply(
  tx: Tx,
  args: {
    tenantId: string;
    runId: string;
    priority: number;
    workflow: CompiledWorkflow;
    state: RunState;
    currentStatus: RunStatus;
  },
): Promise<AppliedPlan> {
  let state = args.state;
  const actions: PlanAction[] = [];
  // The planner decides everything it can in one call; replanning after applying is a cheap guard
  // that settlements (forEach) are followed through in the same transaction.
  for (let round = 0; round < 100; round++) {
    const next = plan(args.workflow, state);
    const fresh = next.filter((a) => a.kind === 'finish' || !actions.some((b) => sameTarget(a, b)));
    if (fresh.length === 0) break;
    actions.push(...fresh);
    state = applyActions(state, fresh);
    if (fresh.some((a) => a.kind === 'finish')) break;
  }

  const { tenantId, runId } = args;
  const newSteps: NewStep[] = [];
  const jobs: NewJob[] = [];
  let outcome: ScopeOutcome | undefined;
  let abortRunning = false;
  for (const action of actions) {
    switch (action.kind) {
      case 'start':
        newSteps.push({ scope: action.scope, nodeId: action.nodeId, attempt: 1, status: 'pending' });
        jobs.push({ kind: 'step', scope: action.scope, nodeId: action.nodeId, attempt: 1 });
        break;
      case 'skip':
        newSteps.push({ scope: action.scope, nodeId: action.nodeId, attempt: 1, status: 'skipped' });
        break;
      case 'settle': {
        const step = args.state.steps.find((s) => s.scope === action.scope && s.nodeId === action.nodeId);
        await recordStepAttempt(tx, {
          tenantId,
          runId,
          scope: action.scope,
          nodeId: action.nodeId,
          attempt: step?.attempt ?? 1,
          result:
            action.outcome.status === 'succeeded'
              ? {
                  status: 'succeeded',
                  output: action.outcome.output,
                  itemCount: step?.itemCount,
                  concurrency: step?.concurrency,
                }
              : {
                  status: 'failed',
                  error: action.outcome.error,
                  itemCount: step?.itemCount,
                  concurrency: step?.concurrency,
                },
        });
        break;
      }
      case 'cancel': {
        const { running } = await cancelOpenSteps(tx, {
          tenantId,
          runId,
          only: { scope: action.scope, nodeId: action.nodeId },
        });
        abortRunning ||= running > 0;
        break;
      }
      case 'finish':
        outcome = action.outcome;
        break;
      default:
        assertNever(action);
    }
  }
  await insertSteps(tx, { tenantId, runId, steps: newSteps });

  if (outcome) {
    const { running } = await cancelOpenSteps(tx, { tenantId, runId });
    await deleteRunJobs(tx, { tenantId, runId });
    await updateRunStatus(tx, {
      tenantId,
      runId,
      status: outcome.status,
      ...(outcome.status === 'succeeded' ? { output: outcome.output } : { error: outcome.error }),
    });
    return { status: outcome.status, outcome, abortRunning: abortRunning || running > 0, readyJobs: 0 };
  }

  await insertJobs(tx, { tenantId, runId, priority: args.priority, jobs });
  const status = liveStatus(state, args.currentStatus);
  if (status !== args.currentStatus) await updateRunStatus(tx, { tenantId, runId, status });
  return { status, abortRunning, readyJobs: jobs.length };
}

/**
 * An unfinished run is queued until a worker first takes one of its steps, waiting when all its open
 * steps wait, and running otherwise.
 */
function liveStatus(state: RunState, current: RunStatus): RunStatus {
  let waiting = false;
  let started = false;
  for (const step of state.steps) {
    if (step.status === 'running') return 'running';
    if (step.status === 'waiting') waiting = true;
    if (step.status !== 'pending') started = true;
  }
  if (current === 'queued' && !started) return 'queued';
  const pending = state.steps.some((s) => s.status === 'pending');
  return waiting && !pending ? 'waiting' : 'running';
}

function sameTarget(a: PlanAction, b: PlanAction): boolean {
  return (
    a.kind !== 'finish' &&
    b.kind !== 'finish' &&
    a.kind === b.kind &&
    a.scope === b.scope &&
    a.nodeId === b.nodeId
  );
}
