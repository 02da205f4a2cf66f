import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileWorkflow, graphOfScope, itemScope, parseScope } from './graph';
import type { WorkflowDefinition } from './model';
import type { NodeTypeRegistry, NodeTypeSpec } from './node-type';

const specs: NodeTypeSpec[] = [
  { type: 'transform', params: z.object({ value: z.unknown() }) },
  { type: 'flow.if', params: z.object({ condition: z.unknown() }), ports: () => ['true', 'false'] },
  {
    type: 'flow.forEach',
    params: z.object({ items: z.unknown(), concurrency: z.number().optional(), do: z.unknown() }),
    rawParams: ['do'],
    subgraphParam: 'do',
  },
];
const registry: NodeTypeRegistry = new Map(specs.map((spec) => [spec.type, spec]));

function workflow(
  nodes: WorkflowDefinition['nodes'],
  edges: WorkflowDefinition['edges'] = [],
): WorkflowDefinition {
  return { name: 'test', nodes, edges };
}

const t = (id: string) => ({ id, type: 'transform' });

describe('compileWorkflow', () => {
  it('orders nodes topologically, keeping definition order among nodes free to go', () => {
    const compiled = compileWorkflow(
      workflow(
        [t('d'), t('a'), t('c'), t('b')],
        [
          { from: 'a', to: 'd' },
          { from: 'b', to: 'd' },
          { from: 'c', to: 'b' },
        ],
      ),
      registry,
    );
    expect(compiled.graph.order).toEqual(['a', 'c', 'b', 'd']);
  });

  it('keeps definition order when there are no edges', () => {
    const compiled = compileWorkflow(workflow([t('z'), t('y'), t('x')]), registry);
    expect(compiled.graph.order).toEqual(['z', 'y', 'x']);
  });

  it('indexes edges both ways with the port defaulted to success', () => {
    const { graph } = compileWorkflow(
      workflow(
        [t('a'), { id: 'b', type: 'flow.if' }, t('c'), t('d')],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c', port: 'true' },
          { from: 'a', to: 'd', port: 'error' },
        ],
      ),
      registry,
    );
    expect(graph.outgoing.get('a')).toEqual([
      { from: 'a', to: 'b', port: 'success' },
      { from: 'a', to: 'd', port: 'error' },
    ]);
    expect(graph.incoming.get('c')).toEqual([{ from: 'b', to: 'c', port: 'true' }]);
    expect(graph.incoming.get('a')).toEqual([]);
    expect(graph.outgoing.get('d')).toEqual([]);
    expect(graph.terminals).toEqual(['c', 'd']);
    expect([...graph.nodes.keys()]).toEqual(['a', 'b', 'c', 'd']);
  });

  it('compiles the inline graph of a node whose type has a subgraph param, recursively', () => {
    const compiled = compileWorkflow(
      workflow([
        t('fetch'),
        {
          id: 'each',
          type: 'flow.forEach',
          params: {
            items: '{{ input }}',
            do: {
              nodes: [
                t('one'),
                { id: 'inner', type: 'flow.forEach', params: { do: { nodes: [t('deep')] } } },
              ],
              edges: [{ from: 'one', to: 'inner' }],
            },
          },
        },
      ]),
      registry,
    );
    const each = compiled.graph.subgraphs.get('each');
    expect(each?.order).toEqual(['one', 'inner']);
    expect(each?.incoming.get('inner')).toEqual([{ from: 'one', to: 'inner', port: 'success' }]);
    expect(each?.subgraphs.get('inner')?.order).toEqual(['deep']);
    expect(compiled.graph.subgraphs.has('fetch')).toBe(false);
  });

  it('refuses a definition that validation would have refused', () => {
    const cyclic = workflow(
      [t('a'), t('b')],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    );
    expect(() => compileWorkflow(cyclic, registry)).toThrow(/cycle/);
    const noGraph = workflow([{ id: 'each', type: 'flow.forEach', params: { do: 'nope' } }]);
    expect(() => compileWorkflow(noGraph, registry)).toThrow(/each\.params\.do is not a graph/);
  });
});

describe('scopes', () => {
  it('names item scopes at the top level and nested', () => {
    expect(itemScope('', 'each', 3)).toBe('each[3]');
    expect(itemScope('each[3]', 'inner', 0)).toBe('each[3]/inner[0]');
  });

  it('parses scopes back into their levels', () => {
    expect(parseScope('')).toEqual([]);
    expect(parseScope('each[3]')).toEqual([{ nodeId: 'each', index: 3 }]);
    expect(parseScope('each[3]/inner[10]')).toEqual([
      { nodeId: 'each', index: 3 },
      { nodeId: 'inner', index: 10 },
    ]);
    for (const bad of ['each', 'each[]', 'each[01]', 'Each[1]', 'each[1]/', '/each[1]', 'each[-1]']) {
      expect(() => parseScope(bad)).toThrow(RangeError);
    }
  });

  it('finds the graph of a scope', () => {
    const compiled = compileWorkflow(
      workflow([
        {
          id: 'each',
          type: 'flow.forEach',
          params: {
            do: { nodes: [{ id: 'inner', type: 'flow.forEach', params: { do: { nodes: [t('deep')] } } }] },
          },
        },
      ]),
      registry,
    );
    expect(graphOfScope(compiled, '')).toBe(compiled.graph);
    expect([...graphOfScope(compiled, 'each[2]').nodes.keys()]).toEqual(['inner']);
    expect([...graphOfScope(compiled, 'each[2]/inner[0]').nodes.keys()]).toEqual(['deep']);
    expect(() => graphOfScope(compiled, 'nope[0]')).toThrow(RangeError);
  });
});
