import { ConnectorError, defineNode } from '@automateiq/connector-kit';
import { z } from 'zod';

/** Most items of one `flow.forEach` node that may run at once. */
export const MAX_FOR_EACH_CONCURRENCY = 100;

const params = z
  .object({
    items: z
      .unknown()
      .describe(
        'The array to iterate over, usually an expression. Anything else fails the step with INVALID_ITEMS.',
      ),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(MAX_FOR_EACH_CONCURRENCY)
      .default(1)
      .describe(
        `Items that may run at once, 1 to ${MAX_FOR_EACH_CONCURRENCY}. Default: 1 (one after another).`,
      ),
    do: z
      .object({
        nodes: z.array(z.unknown()).describe('The inline graph’s nodes; they see `item` and `index`.'),
        edges: z.array(z.unknown()).optional().describe('The inline graph’s edges.'),
      })
      .strict()
      .describe('The graph run once per item. Not evaluated: its expressions run inside each item.'),
  })
  .strict()
  .describe('flow.forEach params');

/**
 * `flow.forEach`: asks the engine to run `do` once per item with bounded concurrency; the node's
 * output is the array of the items' outputs, in item order.
 */
export const flowForEach = defineNode({
  type: 'flow.forEach',
  title: 'For each',
  description: 'Runs an inline graph once per item of a list, and collects the results in order.',
  params,
  rawParams: ['do'],
  subgraphParam: 'do',
  execute: async (ctx) => {
    const { items, concurrency } = ctx.params;
    if (!Array.isArray(items)) {
      const got = items === null ? 'null' : typeof items;
      throw ConnectorError.fatal('INVALID_ITEMS', `items must be an array, got ${got}`, { type: got });
    }
    return { kind: 'forEach', items, concurrency };
  },
});
