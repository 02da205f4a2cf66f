import { graphOfScope, type StepState } from '@automateiq/core';
import type { StepAttemptRecord } from '../store/queries/apply-run-changes';
import type { RunHead } from '../store/queries/lock-runs';
import type { RunDecision } from './run-decision';
import type { RunMutations } from './run-mutations';
import type { StepRunner } from './step-runner';
import type { LoadedWorkflow } from './workflow-cache';

/** Node types that only compute from the run's data: no I/O, no waiting, bounded by the expression time box. */
export const PURE_NODE_TYPES: ReadonlySet<string> = new Set(['transform', 'flow.if', 'flow.switch', 'flow.return', 'flow.fail']);

/** Performs a pure step in the caller's transaction (a completing or a starting one), which holds its run. */
export type RunPure = StepRunner['runPure'];

const OPEN = new Set(['pending', 'running', 'waiting']);

/** Most rounds of pure steps one batch runs for one run (a chain of transforms advances this far per commit). */
export const MAX_PURE_ROUNDS = 20;

/**
 * Runs the pure steps (see `PURE_NODE_TYPES`) of a decision that the worker took, and turns their new
 * `running` rows into finished ones with their results (their jobs are dropped). A step whose result is
 * a retryable failure, a wait or a forEach keeps its job and goes the usual way. Returns the results.
 */
export async function runPureSteps(args: {
  deps: { runPure?: RunPure | undefined };
  tenantId: string;
  run: RunHead;
  workflow: LoadedWorkflow;
  decision: RunDecision;
  mutations: RunMutations;
}): Promise<StepAttemptRecord[]> {
  const { deps, run, workflow, decision, mutations } = args;
  const runPure = deps.runPure;
  if (!runPure) return [];
  const done: StepAttemptRecord[] = [];
  for (const { scope, nodeId } of decision.taken) {
    const node = graphOfScope(workflow.compiled, scope).nodes.get(nodeId);
    if (!node || !PURE_NODE_TYPES.has(node.type)) continue;
    const startedAt = Date.now();
    const result = await runPure({
      tenantId: args.tenantId,
      run: { ...run, status: decision.status, steps: [...decision.state.steps] },
      workflow,
      scope,
      nodeId,
      attempt: 1,
    });
    const finished =
      result.kind === 'succeeded'
        ? { status: 'succeeded' as const, output: result.output, port: result.port }
        : result.kind === 'failed' && !result.error.retryable
          ? { status: 'failed' as const, error: result.error }
          : undefined;
    if (!finished) continue;
    const isThis = (x: { runId: string; scope: string; nodeId: string }): boolean =>
      x.runId === run.id && x.scope === scope && x.nodeId === nodeId;
    const step = mutations.steps.find((x) => isThis(x) && x.attempt === 1);
    if (!step) continue;
    Object.assign(step, finished, { startedAt, finishedAt: Date.now() });
    mutations.jobs.splice(0, mutations.jobs.length, ...mutations.jobs.filter((j) => !(isThis(j) && j.kind === 'step')));
    done.push({ runId: run.id, scope, nodeId, attempt: 1, ...finished });
  }
  return done;
}

/** A run's state with this batch's results (and new retry attempts) applied, as the database will hold it. */
export function withRecords(state: readonly StepState[], records: readonly StepAttemptRecord[]): StepState[] {
  const steps = new Map(state.map((s) => [`${s.scope}\u0000${s.nodeId}`, s]));
  for (const record of records) {
    const key = `${record.scope}\u0000${record.nodeId}`;
    const before = steps.get(key);
    if (record.status === 'pending' && record.attempt > (before?.attempt ?? 0)) {
      steps.set(key, {
        scope: record.scope,
        nodeId: record.nodeId,
        status: 'pending',
        attempt: record.attempt,
      });
      continue;
    }
    if (!before || before.attempt !== record.attempt || !OPEN.has(before.status)) continue;
    const after: StepState = {
      scope: record.scope,
      nodeId: record.nodeId,
      status: record.status,
      attempt: record.attempt,
    };
    const output = record.keepOutput ? before.output : record.output;
    if (output !== undefined) after.output = output;
    if (record.error !== undefined) after.error = record.error;
    if (record.port !== undefined) after.port = record.port;
    if (record.itemCount !== undefined) after.itemCount = record.itemCount;
    if (record.concurrency !== undefined) after.concurrency = record.concurrency;
    steps.set(key, after);
  }
  return [...steps.values()];
}
