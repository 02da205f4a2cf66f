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
import type { RunMutations } from './run-mutations';

export interface RunDecision {
  /** The run's status after the decision. */
  status: RunStatus;
  /** Set when the run ended. */
  outcome?: ScopeOutcome;
  /** The run's state after the decision. */
  state: RunState;
  /** Steps started and taken at once by the deciding worker (see `inline`). */
  taken: { scope: string; nodeId: string }[];
}

/**
 * Asks the planner what a run's state allows now and adds the writes that perform it: new steps and
 * their jobs (up to `inline.capacity` of them taken at once by the deciding worker), skips, forEach
 * settlements, cancellations, the run's end or its new live status. Pure: it only fills `mutations`.
 * The caller holds the run's lock, so no two decisions of one run interleave.
 */
export function decideRun(args: {
  runId: string;
  priority: number;
  workflow: CompiledWorkflow;
  state: RunState;
  currentStatus: RunStatus;
  mutations: RunMutations;
  /**
   * How many new steps the deciding worker may take at once (only those `accepts`, when given); the
   * rest queue. Decremented.
   */
  inline?: { capacity: number; accepts?: (step: { scope: string; nodeId: string }) => boolean } | undefined;
}): RunDecision {
  const { runId, mutations } = args;
  let state = args.state;
  const actions: PlanAction[] = [];
  // The planner decides everything it can in one call; replanning after applying guards that
  // settlements (forEach) are followed through in the same decision.
  for (let round = 0; round < 100; round++) {
    const fresh = plan(args.workflow, state).filter(
      (a) => a.kind === 'finish' || !actions.some((b) => sameTarget(a, b)),
    );
    if (fresh.length === 0) break;
    actions.push(...fresh);
    state = applyActions(state, fresh);
    if (fresh.some((a) => a.kind === 'finish')) break;
  }

  let outcome: ScopeOutcome | undefined;
  const started: string[] = [];
  const takenSteps: RunDecision['taken'] = [];
  for (const action of actions) {
    switch (action.kind) {
      case 'start': {
        const taken = (args.inline?.capacity ?? 0) > 0 && (args.inline?.accepts?.(action) ?? true);
        if (taken && args.inline) {
          args.inline.capacity--;
          started.push(stepKey(action.scope, action.nodeId));
          takenSteps.push({ scope: action.scope, nodeId: action.nodeId });
        }
        mutations.steps.push({
          runId,
          scope: action.scope,
          nodeId: action.nodeId,
          attempt: 1,
          status: taken ? 'running' : 'pending',
        });
        mutations.jobs.push({
          runId,
          kind: 'step',
          scope: action.scope,
          nodeId: action.nodeId,
          attempt: 1,
          priority: args.priority,
          taken,
        });
        break;
      }
      case 'skip':
        mutations.steps.push({
          runId,
          scope: action.scope,
          nodeId: action.nodeId,
          attempt: 1,
          status: 'skipped',
        });
        break;
      case 'settle': {
        const step = args.state.steps.find((s) => s.scope === action.scope && s.nodeId === action.nodeId);
        const base = {
          runId,
          scope: action.scope,
          nodeId: action.nodeId,
          attempt: step?.attempt ?? 1,
          itemCount: step?.itemCount,
          concurrency: step?.concurrency,
        };
        mutations.records.push(
          action.outcome.status === 'succeeded'
            ? { ...base, status: 'succeeded', output: action.outcome.output }
            : { ...base, status: 'failed', output: null, error: action.outcome.error },
        );
        break;
      }
      case 'cancel': {
        mutations.cancels.push({ runId, scope: action.scope, nodeId: action.nodeId });
        const step = args.state.steps.find((s) => s.scope === action.scope && s.nodeId === action.nodeId);
        if (step?.status === 'running') mutations.aborts.add(runId);
        break;
      }
      case 'finish':
        outcome = action.outcome;
        break;
      default:
        assertNever(action);
    }
  }

  if (outcome) {
    // The planner starts nothing in a decision that finishes; the end cancels what is still open
    // (applied after the inserts) and aborts steps running in some worker.
    mutations.ends.push(
      outcome.status === 'succeeded'
        ? { runId, status: 'succeeded', output: outcome.output }
        : { runId, status: 'failed', error: outcome.error },
    );
    if (state.steps.some((s) => s.status === 'running')) mutations.aborts.add(runId);
    return { status: outcome.status, outcome, state, taken: [] };
  }

  if (started.length > 0) {
    const running = new Set(started);
    state = {
      steps: state.steps.map((s) =>
        s.status === 'pending' && running.has(stepKey(s.scope, s.nodeId)) ? { ...s, status: 'running' } : s,
      ),
    };
  }
  const status = liveStatus(state, args.currentStatus);
  if (status !== args.currentStatus) mutations.statuses.push({ runId, status });
  return { status, state, taken: takenSteps };
}

/**
 * An unfinished run is queued until a worker first takes one of its steps, waiting when all its open
 * steps wait, and running otherwise.
 */
function liveStatus(state: RunState, current: RunStatus): RunStatus {
  let waiting = false;
  let pending = false;
  let started = false;
  for (const step of state.steps) {
    if (step.status === 'running') return 'running';
    if (step.status === 'waiting') waiting = true;
    if (step.status === 'pending') pending = true;
    else started = true;
  }
  if (current === 'queued' && !started) return 'queued';
  return waiting && !pending ? 'waiting' : 'running';
}

function stepKey(scope: string, nodeId: string): string {
  return `${scope}\u0000${nodeId}`;
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
