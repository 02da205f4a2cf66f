import { assertNever, type CompiledGraph, type CompiledWorkflow, ERROR_PORT, type StepState } from '@automateiq/core';

/**
 * The steps of a failed or cancelled run that a retry of it keeps, so that the planner continues
 * from there instead of running them again (ARCHITECTURE.md "Failure handling").
 *
 * A step is kept when its result stands — it succeeded, was skipped, or failed into an `error` edge
 * that handled the failure — and every step it depends on in its graph is kept as well, so it would
 * meet the same inputs again. A `flow.forEach` whose inputs are kept keeps the steps of its items
 * (it runs again, yields the same items, and only the items' unfinished steps run); a succeeded one
 * keeps them all. Everything else runs again: the failures that ended a scope, cancelled and open
 * steps, and whatever follows them. Pure: `steps` holds the latest attempt of every step.
 */
export function keptSteps(workflow: CompiledWorkflow, steps: readonly StepState[]): StepState[] {
  const byScope = new Map<string, Map<string, StepState>>();
  const itemScopes = new Map<string, string[]>();
  for (const step of steps) {
    const inScope = byScope.get(step.scope) ?? new Map<string, StepState>();
    inScope.set(step.nodeId, step);
    if (!byScope.has(step.scope)) {
      byScope.set(step.scope, inScope);
      const owner = loopOf(step.scope);
      if (owner !== undefined) itemScopes.set(owner, [...(itemScopes.get(owner) ?? []), step.scope]);
    }
  }

  const kept: StepState[] = [];
  const visit = (scope: string, graph: CompiledGraph): void => {
    const stands = new Set<string>();
    for (const nodeId of graph.order) {
      const step = byScope.get(scope)?.get(nodeId);
      const inputsKept = (graph.incoming.get(nodeId) ?? []).every((edge) => stands.has(edge.from));
      if (step === undefined || !inputsKept) continue;
      if (resultStands(step, graph)) {
        stands.add(nodeId);
        kept.push(step);
      }
      const subgraph = graph.subgraphs.get(nodeId);
      if (subgraph !== undefined) {
        for (const item of itemScopes.get(loopKey(scope, nodeId)) ?? []) visit(item, subgraph);
      }
    }
  };
  visit('', workflow.graph);
  return kept;
}

function resultStands(step: StepState, graph: CompiledGraph): boolean {
  switch (step.status) {
    case 'succeeded':
    case 'skipped':
      return true;
    case 'failed':
      return graph.outgoing.get(step.nodeId)?.some((edge) => edge.port === ERROR_PORT) ?? false;
    case 'pending':
    case 'running':
    case 'waiting':
    case 'cancelled':
      return false;
    default:
      return assertNever(step.status, 'step status');
  }
}

/** The loop (`scope` + forEach node) an item scope belongs to; undefined for the top level. */
function loopOf(scope: string): string | undefined {
  if (scope === '') return undefined;
  const slash = scope.lastIndexOf('/');
  const segment = scope.slice(slash + 1);
  const bracket = segment.lastIndexOf('[');
  return loopKey(slash < 0 ? '' : scope.slice(0, slash), segment.slice(0, bracket));
}

function loopKey(scope: string, nodeId: string): string {
  return `${scope}\u0000${nodeId}`;
}
