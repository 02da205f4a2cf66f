import { defineNode } from '@automateiq/connector-kit';
import { z } from 'zod';
import { isTruthy } from './is-truthy';

const params = z
  .object({
    condition: z
      .unknown()
      .describe(
        'The value to test, usually an expression. True unless falsy in JavaScript or a string that is "", "0" or "false" (trimmed, any case).',
      ),
  })
  .strict()
  .describe('flow.if params');

/** `flow.if`: leaves by port `true` or `false`; output `{ result }`. See `isTruthy`. */
export const flowIf = defineNode({
  type: 'flow.if',
  title: 'If',
  description: 'Takes the "true" or "false" port depending on a condition.',
  params,
  ports: () => ['true', 'false'],
  execute: async (ctx) => {
    const result = isTruthy(ctx.params.condition);
    return { kind: 'output', output: { result }, port: result ? 'true' : 'false' };
  },
});
