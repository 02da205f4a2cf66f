import { defineNode } from '@automateiq/connector-kit';
import { durationSchema, parseDuration } from '@automateiq/core';
import { z } from 'zod';

const params = z
  .object({
    event: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, 'letters, digits, _ . : - (1-200), starting with a letter or digit')
      .describe('The name of the event to wait for, e.g. payment.confirmed.'),
    timeout: durationSchema
      .optional()
      .describe('How long to wait before leaving by the error port with code TIMEOUT: 30s, 2h, 7d. Default: for ever.'),
  })
  .strict()
  .describe('flow.waitForEvent params');

/**
 * `flow.waitForEvent`: parks the run until an event of that name is delivered to it
 * (`POST /v1/runs/:id/events`, or the run's resume URL); the event's payload is the step's output. An
 * event delivered before the step waits is kept for it. With `timeout`, the step fails with code
 * `TIMEOUT` when none came in time (its `error` port).
 */
export const flowWaitForEvent = defineNode({
  type: 'flow.waitForEvent',
  title: 'Wait for event',
  description: 'Pauses the run until a named event is delivered to it, without holding a worker.',
  params,
  execute: async (ctx) => {
    const { event, timeout } = ctx.params;
    const timeoutMs = timeout === undefined ? undefined : parseDuration(timeout);
    return { kind: 'waitForEvent', event, timeoutAt: timeoutMs === undefined ? undefined : new Date(ctx.now() + timeoutMs) };
  },
});
