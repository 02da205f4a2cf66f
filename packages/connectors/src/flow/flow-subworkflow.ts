import { defineNode } from '@automateiq/connector-kit';
import { z } from 'zod';

const params = z
  .object({
    workflow: z.string().min(1).max(200).describe('The workflow to run: its id, or its name.'),
    version: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('A pinned version. Default: the latest version, and the workflow must be active.'),
    input: z.unknown().optional().describe('The input of the sub-workflow run. Default: null.'),
  })
  .strict()
  .describe('flow.subworkflow params');

/**
 * `flow.subworkflow`: runs another workflow of the tenant and waits for it without holding a worker;
 * the step's output is the child run's output, or it fails (SUBWORKFLOW_FAILED) with the child's
 * error. Runs nest at most 8 deep and a run starts at most 1,000 of them; cancelling the parent
 * cancels its children.
 */
export const flowSubworkflow = defineNode({
  type: 'flow.subworkflow',
  title: 'Sub-workflow',
  description: 'Runs another workflow of the tenant and returns its output.',
  params,
  execute: async (ctx) => {
    const { workflow, version, input } = ctx.params;
    return { kind: 'subworkflow', workflow, version, input: input ?? null };
  },
});
