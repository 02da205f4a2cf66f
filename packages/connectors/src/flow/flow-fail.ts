import { ConnectorError, defineNode } from '@automateiq/connector-kit';
import { z } from 'zod';

/** The code of a `flow.fail` error when its params give none. */
export const FLOW_FAIL_CODE = 'FLOW_FAIL';

const params = z
  .object({
    message: z.string().min(1).describe('The error message shown on the failed step and run.'),
    code: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
        'must be a letter then up to 63 letters, digits, "_", "." or "-"',
      )
      .optional()
      .describe(`The error code. Default: ${FLOW_FAIL_CODE}.`),
  })
  .strict()
  .describe('flow.fail params');

/** `flow.fail`: fails the step, not retryable, with `code` (default `FLOW_FAIL`) and `message`. */
export const flowFail = defineNode({
  type: 'flow.fail',
  title: 'Fail',
  description: 'Fails the run with an error code and message.',
  params,
  execute: async (ctx) => {
    throw ConnectorError.fatal(ctx.params.code ?? FLOW_FAIL_CODE, ctx.params.message);
  },
});
