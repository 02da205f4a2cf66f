import { defineConnector } from '@automateiq/connector-kit';
import { z } from 'zod';

const params = z
  .object({
    value: z
      .unknown()
      .describe(
        'Any JSON; the {{ }} expressions inside are evaluated before the step runs (undefined → null).',
      ),
  })
  .strict()
  .describe('transform params');

/** `transform`: outputs `value` as evaluated by the engine (`undefined` → `null`). */
export const transform = defineConnector({
  type: 'transform',
  title: 'Transform',
  description: 'Builds a value from the run context with JSONata expressions.',
  params,
  run: async (ctx) => ctx.params.value ?? null,
});
