import {
  compileRetryPolicy,
  graphOfScope,
  mergeRetry,
  retryDelayMs,
  type ScopeOutcome,
  type StepError,
  type StepState, finalRunStatuses } from '@automateiq/core';
import type { Database } from '../store/database';
import type { StepAttemptRecord } from '../store/queries/apply-run-changes';
import type { ClaimedJob } from '../store/queries/claim-jobs';
import type { RunContext } from '../store/queries/load-run-contexts';
import { loadRunsSteps } from '../store/queries/load-runs-steps';
import { takeRunEvent } from '../store/queries/take-run-event';
import { takeJobsAndLockRuns } from '../store/queries/lock-runs';
import { decideRun, type RunDecision } from './run-decision';
import { MAX_PURE_ROUNDS, type RunPure, runPureSteps, withRecords } from './pure-steps';
import { childRunResult, startChildRun } from './subworkflow';
import { RunMutations } from './run-mutations';
import type { StepResult } from './step-runner';
import type { LoadedWorkflow, WorkflowCache } from './workflow-cache';

/** What a worker reports for a claimed job. */
export type JobResult =
  | StepResult
  /** A `resume` job: the wait of a waiting step is over; it succeeds with the output it keeps. */
  | { kind: 'resumed' }
  /** A `child` job: the sub-workflow run a flow.subworkflow step waits for ended. */
  | { kind: 'childEnded' }
  /** A `deadline` job: the run's timeout has come; an unfinished run fails with RUN_TIMEOUT. */
  | { kind: 'deadline' }
  /** The job's run is over or gone: the job is removed and nothing is recorded. */
  | { kind: 'stale' };

export interface CompletionItem {
  job: ClaimedJob;
  result: JobResult;
  /** The run as the worker knew it when it performed the job (its revision tells whether it is current). */
  context?: RunContext | undefined;
  /** The job's slot may pass to a step this completion starts (false: the next steps queue). */
  passSlot: boolean;
}

export interface BatchResult {
  /** Jobs whose results were recorded (the others were no longer this worker's, or their run was over). */
  recorded: Set<string>;
  /** Steps the worker took at once, each with the run as the batch left it. */
  taken: { job: ClaimedJob; context: RunContext }[];
  /** Jobs made ready now and left in the queue. */
  readyJobs: number;
  /** Runs that ended. */
  ended: { runId: string; outcome: ScopeOutcome }[];
}

export interface CompletionDeps {
  db: Database;
  /** Performs a pure step (no I/O: see `PURE_NODE_TYPES`) inside the completing transaction. */
  runPure?: RunPure | undefined;
  workflows: WorkflowCache;
  workerId: string;
  leaseMs: number;
  random?: () => number;
  now?: () => number;
}


/** The output of a step while it waits for an event: what it waits for, and until when. */
export function eventWaitOutput(event: string, timeoutAt: number | undefined): { event: string; timeoutAt: string | null } {
  return { event, timeoutAt: timeoutAt === undefined ? null : new Date(timeoutAt).toISOString() };
}
const RUN_TIMEOUT: StepError = {
  code: 'RUN_TIMEOUT',
  message: 'the run did not finish within its timeout',
  retryable: false,
};

/**
 * Records the results of claimed jobs of one tenant, and everything they unlock, in one transaction:
 * each step's attempt, its retry, the nodes now ready (the worker takes as many as the batch frees
 * slots, the rest queue), forEach settlements, or the runs' ends. A crash before the commit leaves
 * the jobs claimed (their leases run out and they are run again); after it, the new state. Each kind
 * of write is one statement, whatever the size of the batch.
 */
export async function completeBatch(
  deps: CompletionDeps,
  tenantId: string,
  items: readonly CompletionItem[],
): Promise<BatchResult> {
  return deps.db.withTenant(tenantId, async (tx) => {
    const { taken, runs } = await takeJobsAndLockRuns(tx, {
      tenantId,
      jobIds: items.map((i) => i.job.id),
      workerId: deps.workerId,
    });
    const mine = items.filter((i) => taken.has(i.job.id));
    const mutations = new RunMutations();
    const results: StepAttemptRecord[] = [];
    const retries: StepAttemptRecord[] = [];
    const replan = new Set<string>();
    const expired = new Set<string>();
    const workflows = new Map<string, LoadedWorkflow>();
    const recorded = new Set<string>();

    for (const { job, result } of mine) {
      const run = runs.get(job.runId);
      if (!run || finalRunStatuses.has(run.status) || result.kind === 'stale' || expired.has(run.id)) continue;
      recorded.add(job.id);
      const workflow = await deps.workflows.get(
        { tenantId, workflowId: run.workflowId, version: run.version },
        tx,
      );
      workflows.set(run.id, workflow);
      const attempt = { runId: run.id, scope: job.scope, nodeId: job.nodeId, attempt: job.attempt };
      switch (result.kind) {
        case 'succeeded':
          results.push({ ...attempt, status: 'succeeded', output: result.output, port: result.port });
          replan.add(run.id);
          break;
        case 'waiting':
          results.push({ ...attempt, status: 'waiting', output: result.output });
          mutations.jobs.push({
            ...attempt,
            kind: 'resume',
            priority: run.priority,
            availableAt: result.until,
          });
          replan.add(run.id);
          break;
        case 'waitingForEvent': {
          // An event delivered before the step waited is taken at once.
          const event = await takeRunEvent(tx, { tenantId, ...attempt, name: result.event });
          if (event) {
            results.push({ ...attempt, status: 'succeeded', output: event.payload });
          } else {
            results.push({ ...attempt, status: 'waiting', output: eventWaitOutput(result.event, result.timeoutAt) });
            if (result.timeoutAt !== undefined)
              mutations.jobs.push({ ...attempt, kind: 'timeout', priority: run.priority, availableAt: result.timeoutAt });
          }
          replan.add(run.id);
          break;
        }
        case 'forEach':
          results.push({
            ...attempt,
            status: 'running',
            output: result.items,
            itemCount: result.items.length,
            concurrency: result.concurrency,
          });
          replan.add(run.id);
          break;
        case 'failed': {
          results.push({ ...attempt, status: 'failed', error: result.error });
          const retryAt = retryTime(deps, workflow, job, result.error);
          if (retryAt === undefined) {
            replan.add(run.id);
          } else {
            const next = { ...attempt, attempt: job.attempt + 1 };
            retries.push({ ...next, status: 'pending' });
            mutations.steps.push({ ...next, status: 'pending' });
            mutations.jobs.push({ ...next, kind: 'step', priority: run.priority, availableAt: retryAt });
          }
          break;
        }
        case 'resumed':
          results.push({ ...attempt, status: 'succeeded', keepOutput: true });
          replan.add(run.id);
          break;
        case 'startChild': {
          const outcome = await startChildRun(tx, {
            tenantId,
            workflows: deps.workflows,
            parent: run,
            attempt,
            workflow: result.workflow,
            version: result.version,
            input: result.input,
          });
          results.push({ ...attempt, ...outcome });
          replan.add(run.id);
          break;
        }
        case 'childEnded': {
          const outcome = await childRunResult(tx, { tenantId, attempt });
          if (outcome) {
            results.push({ ...attempt, ...outcome });
            replan.add(run.id);
          }
          break;
        }
        case 'deadline':
          mutations.ends.push({ runId: run.id, status: 'failed', error: RUN_TIMEOUT });
          expired.add(run.id);
          break;
      }
    }
    for (const runId of expired) replan.delete(runId);
    mutations.records.push(...results);

    // The runs' states: the workers' own when still current (a chain advanced by one worker), else read.
    const known = new Map<string, StepState[]>();
    for (const { job, context } of mine) {
      const run = runs.get(job.runId);
      if (context && run && context.revision === run.revision) known.set(run.id, context.steps);
    }
    const stale = [...replan, ...expired].filter((id) => !known.has(id));
    const read = await loadRunsSteps(tx, { tenantId, runIds: stale });
    const states = new Map([...known, ...read]);
    for (const runId of expired) {
      if (states.get(runId)?.some((s) => s.status === 'running')) mutations.aborts.add(runId);
    }

    const inline = { capacity: mine.filter((i) => i.passSlot).length };
    const decisions = new Map<string, RunDecision>();
    for (const runId of replan) {
      const run = runs.get(runId);
      const workflow = workflows.get(runId);
      if (!run || !workflow) continue;
      const state = withRecords(
        states.get(runId) ?? [],
        [...results, ...retries].filter((r) => r.runId === runId),
      );
      let decision = decideRun({
        runId,
        priority: run.priority,
        workflow: workflow.compiled,
        state: { steps: state },
        currentStatus: run.status,
        mutations,
        inline,
      });
      // Pure steps this worker just took (a transform, a branch) run here, in this transaction: their
      // results commit with the step that unlocked them, and what they unlock is decided in turn.
      for (let round = 0; deps.runPure && round < MAX_PURE_ROUNDS && !decision.outcome; round++) {
        const ran = await runPureSteps({ deps, tenantId, run, workflow, decision, mutations });
        if (ran.length === 0) break;
        inline.capacity += ran.length;
        decision = decideRun({
          runId,
          priority: run.priority,
          workflow: workflow.compiled,
          state: { steps: withRecords(decision.state.steps, ran) },
          currentStatus: decision.status,
          mutations,
          inline,
        });
      }
      decisions.set(runId, decision);
    }
    const takenJobs = await mutations.apply(tx, {
      tenantId,
      worker: { id: deps.workerId, leaseMs: deps.leaseMs },
    });

    const ended: BatchResult['ended'] = [];
    for (const [runId, decision] of decisions)
      if (decision.outcome) ended.push({ runId, outcome: decision.outcome });
    for (const runId of expired) ended.push({ runId, outcome: { status: 'failed', error: RUN_TIMEOUT } });
    return {
      recorded,
      taken: takenJobs.flatMap((job) => {
        const run = runs.get(job.runId);
        const decision = decisions.get(job.runId);
        if (!run || !decision) return [];
        const context: RunContext = {
          ...run,
          status: decision.status,
          revision: run.revision + 1,
          steps: [...decision.state.steps],
        };
        return [{ job, context }];
      }),
      readyJobs: mutations.jobs.filter((j) => !j.taken && j.availableAt === undefined).length,
      ended,
    };
  });
}

/** When a failed attempt is retried (epoch ms), or undefined when the failure is final. */
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
  return (deps.now ?? Date.now)() + Math.max(delay, retryAfterMs(error));
}

function retryAfterMs(error: StepError): number {
  const details = error.details;
  if (typeof details !== 'object' || details === null || !('retryAfterMs' in details)) return 0;
  return typeof details.retryAfterMs === 'number' ? details.retryAfterMs : 0;
}
