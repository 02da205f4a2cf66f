import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledGraph, CompiledWorkflow } from './graph';
import { compileWorkflow, graphOfScope, itemScope } from './graph';
import type {
  EdgeDefinition,
  GraphDefinition,
  NodeDefinition,
  PlanAction,
  RunState,
  StepState,
} from './model';
import { applyActions, isTerminalStep, plan } from './planner';
import { testRegistry } from './test-registry';

const registry = testRegistry;

// ---------------------------------------------------------------------------------------------
// Random definitions: edges only from a lower to a higher index, so every graph is acyclic.
// ---------------------------------------------------------------------------------------------

type RawNode =
  | { type: 'transform' | 'flow.if' | 'flow.return' }
  | { type: 'flow.forEach'; inner: GraphDefinition };
interface RawEdge {
  a: number;
  b: number;
  port: number;
}

const rawEdge: fc.Arbitrary<RawEdge> = fc.record({ a: fc.nat(), b: fc.nat(), port: fc.nat() });

/** Depth 0 is the workflow; forEach graphs nest down to depth 2, where no forEach is generated. */
function graphArb(depth: number): fc.Arbitrary<GraphDefinition> {
  const simple = fc.oneof(
    { weight: 6, arbitrary: fc.constant<RawNode>({ type: 'transform' }) },
    { weight: 3, arbitrary: fc.constant<RawNode>({ type: 'flow.if' }) },
    { weight: 1, arbitrary: fc.constant<RawNode>({ type: 'flow.return' }) },
  );
  const nodes: fc.Arbitrary<RawNode> =
    depth >= 2
      ? simple
      : fc.oneof(
          { weight: 8, arbitrary: simple },
          {
            weight: 2,
            arbitrary: graphArb(depth + 1).map((inner): RawNode => ({ type: 'flow.forEach', inner })),
          },
        );
  const maxNodes = depth === 0 ? 8 : 3;
  return fc
    .tuple(
      fc.array(nodes, { minLength: 1, maxLength: maxNodes }),
      fc.array(rawEdge, { maxLength: maxNodes * 2 }),
    )
    .map(([raw, edges]) => buildGraph(raw, edges));
}

function buildGraph(raw: readonly RawNode[], rawEdges: readonly RawEdge[]): GraphDefinition {
  const nodes = raw.map((spec, index): NodeDefinition => {
    const id = `n${index}`;
    return spec.type === 'flow.forEach'
      ? { id, type: spec.type, params: { items: '{{ input }}', do: spec.inner } }
      : { id, type: spec.type };
  });
  const edges = new Map<string, EdgeDefinition>();
  for (const { a, b, port } of rawEdges) {
    const [from, to] = [Math.min(a % raw.length, b % raw.length), Math.max(a % raw.length, b % raw.length)];
    if (from === to) continue;
    const ports =
      raw[from]?.type === 'flow.if' ? ['success', 'error', 'true', 'false'] : ['success', 'error'];
    edges.set(`${from}-${to}`, {
      from: `n${from}`,
      to: `n${to}`,
      port: ports[port % ports.length] ?? 'success',
    });
  }
  return { nodes, edges: [...edges.values()] };
}

// ---------------------------------------------------------------------------------------------
// A simulated engine
// ---------------------------------------------------------------------------------------------

/** mulberry32: the engine's choices come from a seed so that fast-check can replay a failure. */
function random(seed: number): (below: number) => number {
  let a = seed >>> 0;
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * below);
  };
}

/** The engine performs one pending step: a forEach evaluates its items, other nodes succeed or fail. */
function perform(step: StepState, type: string | undefined, pick: (below: number) => number): StepState {
  if (pick(100) < 15) {
    return {
      ...step,
      status: 'failed',
      error: { code: 'E', message: `${step.scope}/${step.nodeId}`, retryable: false },
    };
  }
  switch (type) {
    case 'flow.forEach':
      return { ...step, status: 'running', itemCount: pick(4), concurrency: 1 + pick(2) };
    case 'flow.if':
      return { ...step, status: 'succeeded', output: {}, port: pick(2) === 0 ? 'true' : 'false' };
    default:
      return { ...step, status: 'succeeded', output: `${step.scope}/${step.nodeId}` };
  }
}

const key = (scope: string, nodeId: string) => `${scope}#${nodeId}`;

/** The action histories one step may have over a whole run. */
const ALLOWED_HISTORIES = new Set(['start', 'start,cancel', 'start,settle', 'skip']);

interface Checks {
  histories: Map<string, string[]>;
}

function recordActions(checks: Checks, actions: readonly PlanAction[]): void {
  const inCall = new Set<string>();
  for (const action of actions) {
    if (action.kind === 'finish') continue;
    const at = key(action.scope, action.nodeId);
    expect(inCall.has(at), `two actions for ${at} in one call`).toBe(false);
    inCall.add(at);
    const history = [...(checks.histories.get(at) ?? []), action.kind];
    checks.histories.set(at, history);
    expect(ALLOWED_HISTORIES.has(history.join(',')), `${at}: ${history.join(', ')}`).toBe(true);
  }
  const finishes = actions.filter((action) => action.kind === 'finish');
  expect(finishes.length).toBeLessThanOrEqual(1);
  expect(actions.slice(0, actions.length - finishes.length).every((action) => action.kind !== 'finish')).toBe(
    true,
  );
  // Nothing starts in a call that finishes the run.
  if (finishes.length > 0) expect(actions.filter((action) => action.kind === 'start')).toEqual([]);
}

function indexSteps(state: RunState): Map<string, Map<string, StepState>> {
  const byScope = new Map<string, Map<string, StepState>>();
  for (const step of state.steps) {
    const inScope = byScope.get(step.scope) ?? new Map<string, StepState>();
    expect(inScope.has(step.nodeId), `two steps for ${key(step.scope, step.nodeId)}`).toBe(false);
    byScope.set(step.scope, inScope.set(step.nodeId, step));
  }
  return byScope;
}

const hasErrorEdge = (graph: CompiledGraph, nodeId: string) =>
  (graph.outgoing.get(nodeId) ?? []).some((edge) => edge.port === 'error');

/** An oracle written from the spec, independent of the planner: has this scope ended? */
function scopeEnded(graph: CompiledGraph, steps: ReadonlyMap<string, StepState> | undefined): boolean {
  const all = [...(steps?.values() ?? [])];
  if (
    all.some((step) => step.status === 'succeeded' && graph.nodes.get(step.nodeId)?.type === 'flow.return')
  ) {
    return true;
  }
  if (all.some((step) => step.status === 'failed' && !hasErrorEdge(graph, step.nodeId))) return true;
  return [...graph.nodes.keys()].every((nodeId) => {
    const step = steps?.get(nodeId);
    return step !== undefined && isTerminalStep(step);
  });
}

/**
 * Every running forEach has at most `concurrency` unfinished items, and its started items are a prefix.
 * Until the run finishes (then the engine cancels what is left), nothing runs in an ended item.
 */
function checkItems(
  workflow: CompiledWorkflow,
  byScope: Map<string, Map<string, StepState>>,
  finished: boolean,
): void {
  for (const [scope, steps] of byScope) {
    const graph = graphOfScope(workflow, scope);
    for (const step of steps.values()) {
      const subgraph = graph.subgraphs.get(step.nodeId);
      if (subgraph === undefined || step.itemCount === undefined) continue;
      let unfinished = 0;
      let sawUnstarted = false;
      for (let index = 0; index < step.itemCount; index += 1) {
        const inner = itemScope(scope, step.nodeId, index);
        const items = byScope.get(inner);
        if (items === undefined) {
          sawUnstarted = true;
          continue;
        }
        expect(sawUnstarted, `item ${index} of ${key(scope, step.nodeId)} started out of order`).toBe(false);
        const ended = scopeEnded(subgraph, items);
        if (!ended) unfinished += 1;
        if (!finished && (ended || isTerminalStep(step))) expectAllTerminal(byScope, inner);
      }
      if (step.status === 'running') expect(unfinished).toBeLessThanOrEqual(step.concurrency ?? 1);
    }
  }
}

function expectAllTerminal(byScope: Map<string, Map<string, StepState>>, scope: string): void {
  for (const [inner, steps] of byScope) {
    if (inner !== scope && !inner.startsWith(`${scope}/`)) continue;
    for (const step of steps.values()) {
      expect(isTerminalStep(step), `${key(inner, step.nodeId)} is ${step.status} in an ended item`).toBe(
        true,
      );
    }
  }
}

/** The edge rules, checked on every step that exists: a started node had an edge taken, a skipped one none. */
function checkEdges(workflow: CompiledWorkflow, byScope: Map<string, Map<string, StepState>>): void {
  for (const [scope, steps] of byScope) {
    const graph = graphOfScope(workflow, scope);
    for (const step of steps.values()) {
      if (step.status === 'cancelled') continue;
      const incoming = graph.incoming.get(step.nodeId) ?? [];
      const froms = incoming.map((edge) => ({ edge, from: steps.get(edge.from) }));
      expect(froms.every(({ from }) => from !== undefined && isTerminalStep(from))).toBe(true);
      const taken = froms.some(({ edge, from }) =>
        from?.status === 'succeeded'
          ? edge.port === 'success' || edge.port === from.port
          : from?.status === 'failed' && edge.port === 'error',
      );
      expect(step.status === 'skipped', `${key(scope, step.nodeId)}: ${step.status}`).toBe(
        incoming.length > 0 && !taken,
      );
    }
  }
}

function checkFinish(workflow: CompiledWorkflow, state: RunState, finish: PlanAction): void {
  if (finish.kind !== 'finish') throw new Error('not a finish');
  const top = indexSteps(state).get('') ?? new Map<string, StepState>();
  const graph = workflow.graph;
  const topSteps = [...top.values()];
  const returned = topSteps.filter(
    (step) => step.status === 'succeeded' && graph.nodes.get(step.nodeId)?.type === 'flow.return',
  );
  const failed = topSteps.filter((step) => step.status === 'failed' && !hasErrorEdge(graph, step.nodeId));
  const early = [...failed.map((step) => step.error), ...returned.map((step) => step.output)];
  // Results recorded together may end the scope twice; the planner takes the first in topological order.
  if (early.length > 0) {
    const outcome = finish.outcome;
    expect(early).toContainEqual(outcome.status === 'failed' ? outcome.error : outcome.output);
    return;
  }
  expect(finish.outcome.status).toBe('succeeded');
  // A normal end: every node of the top scope has exactly one step, and it is terminal.
  for (const nodeId of graph.nodes.keys()) {
    const step = top.get(nodeId);
    expect(step !== undefined && isTerminalStep(step), `${nodeId} did not end`).toBe(true);
  }
}

const MAX_ROUNDS = 2_000;

/** Drives a run to its end; returns the number of plan calls it took. */
function simulate(definition: GraphDefinition, seed: number): number {
  const workflow = compileWorkflow({ name: 'fuzz', ...definition }, registry);
  const pick = random(seed);
  const checks: Checks = { histories: new Map() };
  let state: RunState = { steps: [] };
  for (let round = 1; round <= MAX_ROUNDS; round += 1) {
    const actions = plan(workflow, state);
    recordActions(checks, actions);
    state = applyActions(state, actions);
    // One call decides everything that can be decided now.
    expect(plan(workflow, state).filter((action) => action.kind !== 'finish')).toEqual([]);
    const finish = actions.find((action) => action.kind === 'finish');
    const byScope = indexSteps(state);
    checkItems(workflow, byScope, finish !== undefined);
    checkEdges(workflow, byScope);
    if (finish !== undefined) {
      checkFinish(workflow, state, finish);
      expect(plan(workflow, state)).toEqual([finish]);
      return round;
    }
    const pending = state.steps.filter((step) => step.status === 'pending');
    expect(pending.length, 'the run is stuck: nothing pending and no finish').toBeGreaterThan(0);
    // The engine records 1 to 3 results between two plan calls.
    const chosen = new Set(Array.from({ length: 1 + pick(3) }, () => pending[pick(pending.length)]));
    state = {
      steps: state.steps.map((step) =>
        chosen.has(step)
          ? perform(step, graphOfScope(workflow, step.scope).nodes.get(step.nodeId)?.type, pick)
          : step,
      ),
    };
  }
  throw new Error(`the run did not finish within ${MAX_ROUNDS} plan calls`);
}

describe('plan: properties over random workflows and engine schedules', () => {
  it('always finishes, never repeats an action, and keeps forEach within its concurrency', () => {
    fc.assert(
      fc.property(graphArb(0), fc.integer(), (definition, seed) => {
        expect(simulate(definition, seed)).toBeLessThanOrEqual(MAX_ROUNDS);
      }),
      { numRuns: 400 },
    );
  });
});
