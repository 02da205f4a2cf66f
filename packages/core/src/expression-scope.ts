import { itemScope, parseScope } from './graph';
import type { RunState, StepState } from './model';

/** What expressions may read about the run itself. */
export interface RunInfo {
  id: string;
  workflowId: string;
  version: number;
  startedAt: string | null;
  input: unknown;
  trigger: unknown;
  /** Where an outside system delivers events to the run (flow.waitForEvent); null when none is served. */
  resumeUrl?: string | null;
}

/** How a step appears to expressions as `steps.<id>`. */
export interface StepView {
  status: StepState['status'];
  output: unknown;
  error: StepState['error'] | null;
}

/**
 * The context a node's expressions are evaluated in (see CONTRACT.md): `input`, `trigger`,
 * `steps.<id>`, `item`, `index`, `vars`, `run`. In an item scope of a `flow.forEach`, `steps` holds
 * the steps of that item over those of the enclosing scopes, and `item`/`index` are the item's.
 * A `flow.forEach` step keeps its items as its output while it runs.
 */
export function expressionScope(args: {
  state: RunState;
  scope: string;
  run: RunInfo;
  vars: Readonly<Record<string, unknown>>;
}): Record<string, unknown> {
  const byScope = new Map<string, StepState[]>();
  for (const step of args.state.steps) {
    const list = byScope.get(step.scope);
    if (list) list.push(step);
    else byScope.set(step.scope, [step]);
  }
  const steps: Record<string, StepView> = {};
  const addScope = (scope: string): void => {
    for (const s of byScope.get(scope) ?? []) {
      steps[s.nodeId] = { status: s.status, output: s.output ?? null, error: s.error ?? null };
    }
  };
  addScope('');
  let item: unknown = null;
  let index: number | null = null;
  let parent = '';
  for (const level of parseScope(args.scope)) {
    const forEach = byScope.get(parent)?.find((s) => s.nodeId === level.nodeId);
    const items = forEach?.output;
    item = Array.isArray(items) ? (items[level.index] ?? null) : null;
    index = level.index;
    parent = itemScope(parent, level.nodeId, level.index);
    addScope(parent);
  }
  const { run } = args;
  return {
    input: run.input ?? null,
    trigger: run.trigger ?? null,
    steps,
    item,
    index,
    vars: args.vars,
    run: {
      id: run.id,
      workflowId: run.workflowId,
      version: run.version,
      startedAt: run.startedAt,
      resumeUrl: run.resumeUrl ?? null,
    },
  };
}
