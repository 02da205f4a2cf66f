import { defineNode } from '@automateiq/connector-kit';
import { parseDuration, durationSchema } from '@automateiq/core';
import { z } from 'zod';

const params = z
  .object({
    duration: durationSchema
      .optional()
      .describe('How long to wait from now: 250ms, 30s, 5m, 2h, 1d.'),
    until: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When to resume: an ISO 8601 time with Z or an offset, e.g. 2030-01-31T09:00:00Z.'),
  })
  .strict()
  .refine((value) => (value.duration === undefined) !== (value.until === undefined), {
    message: 'give exactly one of duration or until',
  })
  .describe('flow.wait params');

/**
 * `flow.wait`: parks the run until `now() + duration` or `until` (a time in the past resumes at once);
 * output `{ waitedUntil }` (ISO time).
 */
export const flowWait = defineNode({
  type: 'flow.wait',
  title: 'Wait',
  description: 'Pauses the run for a duration or until a time, without holding a worker.',
  params,
  execute: async (ctx) => {
    const { duration, until } = ctx.params;
    const durationMs = duration === undefined ? undefined : parseDuration(duration);
    const at = durationMs === undefined ? new Date(until ?? Number.NaN) : new Date(ctx.now() + durationMs);
    return { kind: 'wait', until: at, output: { waitedUntil: at.toISOString() } };
  },
});
