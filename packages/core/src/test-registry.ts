import { z } from 'zod';
import type { NodeTypeRegistry, NodeTypeSpec } from './node-type';

/**
 * A small registry of the flow node types' shapes, for core's own tests (core cannot import the
 * connectors): `transform`, `flow.if` (ports true/false), `flow.return`, `flow.forEach` (inline `do`).
 */
export const testNodeTypes: readonly NodeTypeSpec[] = [
  { type: 'transform', params: z.object({ value: z.unknown() }) },
  { type: 'flow.if', params: z.object({ condition: z.unknown() }), ports: () => ['true', 'false'] },
  { type: 'flow.return', params: z.object({ value: z.unknown() }) },
  {
    type: 'flow.forEach',
    params: z.object({ items: z.unknown(), concurrency: z.number().optional(), do: z.unknown() }),
    rawParams: ['do'],
    subgraphParam: 'do',
  },
];

export const testRegistry: NodeTypeRegistry = new Map(testNodeTypes.map((spec) => [spec.type, spec]));
