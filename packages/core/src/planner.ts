import { assertNever } from './assert-never';
import type { CompiledGraph, CompiledWorkflow } from './graph';
import { graphOfScope, itemScope } from './graph';
import type { PlanAction, RunState, ScopeOutcome, StepError, StepState } from './model';
import { ERROR_PORT, SUCCESS_PORT, terminalStepStatuses } from './model';

/** The node type whose success ends its scope at once, its output becoming the scope's output. */
export const FLOW_RETURN_TYPE = 'flow.return';

/** Code of the error a `flow.forEach` step fails with when one of its items fails. */
export const ITEM_FAILED = 'ITEM_FAILED';

/** The actions that concern one step (all but `finish`). */
export type StepAction = Exclude<PlanAction, { kind: 'finish' }>;

/**
 * Decides what happens next in a run: the pure planner of ARCHITECTURE.md "Engine semantics".
 *
 * `state.steps` holds the latest attempt of every step created so far; a node without a step in a
 * scope has not started. One call returns everything that can be decided now (skips propagate,
 * `flow.forEach` items start and settle, joins start), at most one action per (scope, node), and a
 * final `finish` once the top-level scope has ended. Applying the actions (see `applyActions`) and
 * calling again yields no new action until a step changes; on a finished run it yields the same
 * `finish` again. Deterministic: no clock, no randomness.
 */
export function plan(workflow: CompiledWorkflow, state: RunState): PlanAction[] {
  const run = new WorkingRun(state);
  const result = evaluateScope(run, { scope: '', graph: workflow.graph });
  const actions: PlanAction[] = run.actions();
  if (result.kind === 'finished') actions.push({ kind: 'finish', outcome: result.outcome });
  return actions;
}

/**
 * The outcome of `scope` (default: the whole run) as `plan` decides it from `state` now, or
 * `undefined` while the scope is still open. Throws a `RangeError` when the scope does not exist.
 */
export function scopeOutcome(input: {
  workflow: CompiledWorkflow;
  state: RunState;
  scope?: string;
}): ScopeOutcome | undefined {
  const scope = input.scope ?? '';
  const result = evaluateScope(new WorkingRun(input.state), {
    scope,
    graph: graphOfScope(input.workflow, scope),
  });
  return result.kind === 'finished' ? result.outcome : undefined;
}

/**
 * The state after the engine has performed `actions`: `start` creates a pending step (attempt 1),
 * `skip` marks the step skipped (creating it with attempt 1), `settle` records the outcome, `cancel`
 * marks it cancelled; `finish` changes no step. Steps keep their order; new ones are appended.
 * `state` is not modified.
 */
export function applyActions(state: RunState, actions: readonly PlanAction[]): RunState {
  const steps = [...state.steps];
  const position = new Map(steps.map((step, index) => [stepKey(step.scope, step.nodeId), index] as const));
  for (const action of actions) {
    switch (action.kind) {
      case 'finish':
        break;
      case 'start':
      case 'skip':
      case 'settle':
      case 'cancel': {
        const key = stepKey(action.scope, action.nodeId);
        const index = position.get(key);
        if (index === undefined) {
          position.set(key, steps.length);
          steps.push(stepAfter(undefined, action));
        } else {
          steps[index] = stepAfter(steps[index], action);
        }
        break;
      }
      default:
        assertNever(action, 'plan action');
    }
  }
  return { steps };
}

/** Whether a step will never change again. */
export function isTerminalStep(step: StepState): boolean {
  return terminalStepStatuses.has(step.status);
}

// ---------------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------------

interface Frame {
  readonly scope: string;
  readonly graph: CompiledGraph;
}

type ScopeResult = { kind: 'open' } | { kind: 'finished'; outcome: ScopeOutcome };

const OPEN: ScopeResult = { kind: 'open' };

/**
 * Advances one scope as far as the state allows and says whether it has ended. A scope ends early
 * on the first step (in topological order) that is a succeeded `flow.return` or a failure without an
 * `error` edge; then its unfinished steps are abandoned. Otherwise it ends when every node is terminal.
 */
function evaluateScope(run: WorkingRun, frame: Frame): ScopeResult {
  const early = findEarlyEnd(run, frame) ?? advanceScope(run, frame);
  if (early !== undefined) {
    abandonScope(run, frame.scope);
    return { kind: 'finished', outcome: early };
  }
  return completedOutcome(run, frame);
}

function findEarlyEnd(run: WorkingRun, frame: Frame): ScopeOutcome | undefined {
  for (const nodeId of frame.graph.order) {
    const end = earlyEndBy(run.get(frame.scope, nodeId), frame.graph);
    if (end !== undefined) return end;
  }
  return undefined;
}

/** One pass in topological order reaches the fixpoint: a decision only unblocks nodes after it. */
function advanceScope(run: WorkingRun, frame: Frame): ScopeOutcome | undefined {
  for (const nodeId of frame.graph.order) {
    advanceNode(run, frame, nodeId);
    // Only a `flow.forEach` settled just now can end the scope here; earlier ends were found before.
    const end = earlyEndBy(run.get(frame.scope, nodeId), frame.graph);
    if (end !== undefined) return end;
  }
  return undefined;
}

function earlyEndBy(step: StepState | undefined, graph: CompiledGraph): ScopeOutcome | undefined {
  if (step === undefined) return undefined;
  switch (step.status) {
    case 'succeeded':
      return graph.nodes.get(step.nodeId)?.type === FLOW_RETURN_TYPE
        ? { status: 'succeeded', output: step.output }
        : undefined;
    case 'failed':
      return hasErrorEdge(graph, step.nodeId) ? undefined : { status: 'failed', error: errorOf(step) };
    case 'pending':
    case 'running':
    case 'waiting':
    case 'skipped':
    case 'cancelled':
      return undefined;
    default:
      return assertNever(step.status, 'step status');
  }
}

function completedOutcome(run: WorkingRun, frame: Frame): ScopeResult {
  for (const nodeId of frame.graph.order) {
    const step = run.get(frame.scope, nodeId);
    if (step === undefined || !isTerminalStep(step)) return OPEN;
  }
  return { kind: 'finished', outcome: { status: 'succeeded', output: graphOutput(run, frame) } };
}

/** CONTRACT.md: the single terminal node that succeeded gives the output; else `{ [id]: output }`. */
function graphOutput(run: WorkingRun, frame: Frame): unknown {
  const succeeded: StepState[] = [];
  for (const nodeId of frame.graph.terminals) {
    const step = run.get(frame.scope, nodeId);
    if (step?.status === 'succeeded') succeeded.push(step);
  }
  const [only] = succeeded;
  if (succeeded.length === 1 && only !== undefined) return only.output;
  const output: Record<string, unknown> = {};
  for (const step of succeeded) output[step.nodeId] = step.output;
  return output;
}

/**
 * Abandons what still runs in an ended scope and the scopes below it. Steps started in this very
 * call are withdrawn (their `start` is dropped). Others are cancelled in item scopes; in the top
 * scope the `finish` tells the engine to cancel them.
 */
function abandonScope(run: WorkingRun, scope: string): void {
  const cancel = scope !== '';
  for (const inner of run.scopeAndBelow(scope)) {
    for (const step of run.stepsIn(inner)) {
      if (isTerminalStep(step) || run.withdrawStart(step)) continue;
      if (cancel) run.emit({ kind: 'cancel', scope: step.scope, nodeId: step.nodeId });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

const Readiness = { start: 'start', skip: 'skip', wait: 'wait' } as const;
type Readiness = (typeof Readiness)[keyof typeof Readiness];

function advanceNode(run: WorkingRun, frame: Frame, nodeId: string): void {
  const step = run.get(frame.scope, nodeId);
  if (step === undefined) {
    startOrSkip(run, frame, nodeId);
    return;
  }
  const subgraph = frame.graph.subgraphs.get(nodeId);
  if (subgraph !== undefined && step.status === 'running' && step.itemCount !== undefined) {
    driveItems(run, {
      scope: frame.scope,
      nodeId,
      itemCount: step.itemCount,
      concurrency: step.concurrency,
      subgraph,
    });
  }
}

function startOrSkip(run: WorkingRun, frame: Frame, nodeId: string): void {
  const readiness = readinessOf(run, frame, nodeId);
  switch (readiness) {
    case 'start':
    case 'skip':
      run.emit({ kind: readiness, scope: frame.scope, nodeId });
      return;
    case 'wait':
      return;
    default:
      assertNever(readiness, 'readiness');
  }
}

/** A root starts; otherwise a node waits until every incoming edge is settled, then starts or skips. */
function readinessOf(run: WorkingRun, frame: Frame, nodeId: string): Readiness {
  const edges = frame.graph.incoming.get(nodeId) ?? [];
  let taken = edges.length === 0;
  for (const edge of edges) {
    const from = run.get(frame.scope, edge.from);
    if (from === undefined || !isTerminalStep(from)) return Readiness.wait;
    taken ||= takesEdge(from, edge.port);
  }
  return taken ? Readiness.start : Readiness.skip;
}

/** Whether a terminal step leaves its node by an edge of `port`. */
function takesEdge(step: StepState, port: string): boolean {
  switch (step.status) {
    case 'succeeded':
      return port === SUCCESS_PORT || port === step.port;
    case 'failed':
      return port === ERROR_PORT;
    case 'pending':
    case 'running':
    case 'waiting':
    case 'skipped':
    case 'cancelled':
      return false;
    default:
      return assertNever(step.status, 'step status');
  }
}

function hasErrorEdge(graph: CompiledGraph, nodeId: string): boolean {
  return graph.outgoing.get(nodeId)?.some((edge) => edge.port === ERROR_PORT) ?? false;
}

function errorOf(step: StepState): StepError {
  return step.error ?? { code: 'STEP_FAILED', message: `step ${step.nodeId} failed`, retryable: false };
}

// ---------------------------------------------------------------------------------------------
// flow.forEach items
// ---------------------------------------------------------------------------------------------

interface Loop {
  /** Scope of the `flow.forEach` step itself. */
  readonly scope: string;
  readonly nodeId: string;
  readonly itemCount: number;
  readonly concurrency: number | undefined;
  readonly subgraph: CompiledGraph;
}

/**
 * Starts items in index order while fewer than `concurrency` (default 1) are unfinished, so the
 * started items are always a prefix. Settles the node once all items succeeded, or as soon as one fails.
 */
function driveItems(run: WorkingRun, loop: Loop): void {
  const count = Math.max(0, Math.floor(loop.itemCount));
  const limit = Math.max(1, Math.floor(loop.concurrency ?? 1));
  const outputs: unknown[] = [];
  let unfinished = 0;
  for (let index = 0; index < count; index += 1) {
    const scope = itemScope(loop.scope, loop.nodeId, index);
    const started = run.hasSteps(scope) || loop.subgraph.order.length === 0;
    if (!started && unfinished >= limit) break;
    const result = evaluateScope(run, { scope, graph: loop.subgraph });
    if (result.kind === 'open') {
      unfinished += 1;
      continue;
    }
    const outcome = result.outcome;
    switch (outcome.status) {
      case 'succeeded':
        outputs.push(outcome.output);
        break;
      case 'failed':
        failLoop(run, loop, { index, error: outcome.error });
        return;
      default:
        assertNever(outcome, 'scope outcome');
    }
  }
  if (outputs.length === count) {
    run.emit({
      kind: 'settle',
      scope: loop.scope,
      nodeId: loop.nodeId,
      outcome: { status: 'succeeded', output: outputs },
    });
  }
}

function failLoop(run: WorkingRun, loop: Loop, failure: { index: number; error: StepError }): void {
  const error: StepError = {
    code: ITEM_FAILED,
    message: `item ${failure.index} failed: ${failure.error.message}`,
    retryable: false,
    details: { index: failure.index, error: failure.error },
  };
  run.emit({ kind: 'settle', scope: loop.scope, nodeId: loop.nodeId, outcome: { status: 'failed', error } });
  for (let index = 0; index < loop.itemCount; index += 1) {
    const scope = itemScope(loop.scope, loop.nodeId, index);
    if (run.hasSteps(scope)) abandonScope(run, scope);
  }
}

// ---------------------------------------------------------------------------------------------
// The working copy of the state for one call
// ---------------------------------------------------------------------------------------------

function stepKey(scope: string, nodeId: string): string {
  return `${scope}#${nodeId}`;
}

function parentOf(scope: string): string {
  const slash = scope.lastIndexOf('/');
  return slash < 0 ? '' : scope.slice(0, slash);
}

/** The step as it is after `action`; `start` always makes a fresh pending step. */
function stepAfter(step: StepState | undefined, action: StepAction): StepState {
  const base: StepState = step ?? {
    scope: action.scope,
    nodeId: action.nodeId,
    status: 'pending',
    attempt: 1,
  };
  switch (action.kind) {
    case 'start':
      return { scope: action.scope, nodeId: action.nodeId, status: 'pending', attempt: 1 };
    case 'skip':
      return { ...base, status: 'skipped' };
    case 'cancel':
      return { ...base, status: 'cancelled' };
    case 'settle':
      return settled(base, action.outcome);
    default:
      return assertNever(action, 'step action');
  }
}

function settled(step: StepState, outcome: ScopeOutcome): StepState {
  switch (outcome.status) {
    case 'succeeded':
      return { ...step, status: 'succeeded', output: outcome.output };
    case 'failed':
      return { ...step, status: 'failed', error: outcome.error };
    default:
      return assertNever(outcome, 'scope outcome');
  }
}

/**
 * The run's steps indexed by scope (built once per call, linear in the number of steps), updated
 * as actions are decided, plus the actions decided so far — at most one per (scope, node).
 */
class WorkingRun {
  private readonly steps = new Map<string, Map<string, StepState>>();
  /** Child scopes of each scope that has steps, so an ended scope reaches its items without a scan. */
  private readonly children = new Map<string, Set<string>>();
  private readonly decided = new Map<string, StepAction>();

  constructor(state: RunState) {
    for (const step of state.steps) this.put(step);
  }

  get(scope: string, nodeId: string): StepState | undefined {
    return this.steps.get(scope)?.get(nodeId);
  }

  hasSteps(scope: string): boolean {
    return (this.steps.get(scope)?.size ?? 0) > 0;
  }

  /** A snapshot: the caller may emit actions while it iterates. */
  stepsIn(scope: string): StepState[] {
    return [...(this.steps.get(scope)?.values() ?? [])];
  }

  /** `scope` and every scope nested in it that has (or had) steps. */
  scopeAndBelow(scope: string): string[] {
    const found = [scope];
    for (let index = 0; index < found.length; index += 1) {
      const current = found[index];
      if (current !== undefined) found.push(...(this.children.get(current) ?? []));
    }
    return found;
  }

  /** Records an action and applies it to the working copy. Throws on a second action for one step. */
  emit(action: StepAction): void {
    const key = stepKey(action.scope, action.nodeId);
    const earlier = this.decided.get(key);
    if (earlier !== undefined) {
      throw new Error(
        `Planner invariant broken: ${action.kind} after ${earlier.kind} for ${key} in one call`,
      );
    }
    this.decided.set(key, action);
    this.put(stepAfter(this.get(action.scope, action.nodeId), action));
  }

  /** Drops the `start` decided in this call for `step`, if any, and forgets the step. */
  withdrawStart(step: StepState): boolean {
    const key = stepKey(step.scope, step.nodeId);
    if (this.decided.get(key)?.kind !== 'start') return false;
    this.decided.delete(key);
    this.steps.get(step.scope)?.delete(step.nodeId);
    return true;
  }

  actions(): PlanAction[] {
    return [...this.decided.values()];
  }

  private put(step: StepState): void {
    let inScope = this.steps.get(step.scope);
    if (inScope === undefined) {
      inScope = new Map();
      this.steps.set(step.scope, inScope);
      this.link(step.scope);
    }
    inScope.set(step.nodeId, step);
  }

  private link(scope: string): void {
    for (let child = scope; child !== ''; child = parentOf(child)) {
      const parent = parentOf(child);
      const siblings = this.children.get(parent) ?? new Set<string>();
      this.children.set(parent, siblings);
      if (siblings.has(child)) return;
      siblings.add(child);
    }
  }
}
