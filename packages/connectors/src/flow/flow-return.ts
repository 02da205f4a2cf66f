import { defineConnector } from '@automateiq/connector-kit';
import { z } from 'zod';

const params = z
  .object({
    value: z.unknown().optional().describe('The run’s output. Default: null.'),
    status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .optional()
      .describe('HTTP status answered to a sync webhook. Default: 200.'),
    headers: z.record(z.string(), z.string()).optional().describe('HTTP headers answered to a sync webhook.'),
  })
  .strict()
  .describe('flow.return params');

/**
 * `flow.return`: its `value` is the output of the step and of the run (or of the forEach item).
 * `status` and `headers` are read by the sync-webhook responder from the params; they are not output.
 */
export const flowReturn = defineConnector({
  type: 'flow.return',
  title: 'Return',
  description: 'Sets the output of the run (and the answer of a sync webhook).',
  params,
  run: async (ctx) => ctx.params.value ?? null,
});
