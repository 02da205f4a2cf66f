import { builtInConnectors, createConnectorRegistry } from '@automateiq/connectors';
import { compileWorkflow, type StepState, type WorkflowDefinition } from '@automateiq/core';
import { describe, expect, it } from 'vitest';
import { keptSteps } from './kept-steps';

const registry = createConnectorRegistry(builtInConnectors);
const node = (id: string) => ({ id, type: 'transform', params: { value: id } });
const s = (nodeId: string, status: StepState['status'], scope = ''): StepState => ({ scope, nodeId, status, attempt: 1 });
const kept = (definition: WorkflowDefinition, steps: StepState[]) =>
  keptSteps(compileWorkflow(definition, registry), steps).map((x) => `${x.scope}:${x.nodeId}`);

describe('keptSteps', () => {
  const chain: WorkflowDefinition = {
    name: 'chain',
    nodes: [node('a'), node('b'), node('c')],
    edges: [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
    ],
  };

  it('keeps what succeeded before the failure, nothing from the failure on', () => {
    expect(kept(chain, [s('a', 'succeeded'), s('b', 'failed')])).toEqual([':a']);
  });

  it('keeps nothing after a step that runs again, even when it succeeded', () => {
    expect(kept(chain, [s('a', 'cancelled'), s('b', 'succeeded'), s('c', 'failed')])).toEqual([]);
  });

  it('keeps a failure handled by an error edge, and skips', () => {
    const handled: WorkflowDefinition = {
      name: 'handled',
      nodes: [node('a'), node('ok'), node('fallback'), node('last')],
      edges: [
        { from: 'a', to: 'ok' },
        { from: 'a', to: 'fallback', port: 'error' },
        { from: 'fallback', to: 'last' },
      ],
    };
    const state = [s('a', 'failed'), s('ok', 'skipped'), s('fallback', 'succeeded'), s('last', 'failed')];
    expect(kept(handled, state)).toEqual([':a', ':ok', ':fallback']);
  });

  it("keeps a failed forEach's finished items when its inputs are kept", () => {
    const each: WorkflowDefinition = {
      name: 'each',
      nodes: [
        node('src'),
        {
          id: 'each',
          type: 'flow.forEach',
          params: { items: '{{ steps.src.output }}', do: { nodes: [node('x'), node('y')], edges: [{ from: 'x', to: 'y' }] } },
        },
      ],
      edges: [{ from: 'src', to: 'each' }],
    };
    const state = [
      s('src', 'succeeded'),
      s('each', 'failed'),
      s('x', 'succeeded', 'each[0]'),
      s('y', 'succeeded', 'each[0]'),
      s('x', 'succeeded', 'each[1]'),
      s('y', 'failed', 'each[1]'),
      s('x', 'cancelled', 'each[2]'),
    ];
    expect(kept(each, state)).toEqual([':src', 'each[0]:x', 'each[0]:y', 'each[1]:x']);
    // Without its input, the loop may see other items: none of them is kept.
    expect(kept(each, state.map((x) => (x.nodeId === 'src' ? { ...x, status: 'cancelled' } : x)))).toEqual([]);
  });
});
