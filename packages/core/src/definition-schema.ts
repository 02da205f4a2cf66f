import { z } from 'zod';
import { cronScheduleError } from './cron-schedule';
import { parseDuration } from './duration';
import type { GraphDefinition, WorkflowDefinition } from './model';

/**
 * The shape of a workflow definition (shared/CONTRACT.md, "Workflow definition"). Every object is
 * strict: an unknown key is an error, so a typo never silently turns into a default. What the shape
 * cannot say (node types and their params, edges that point at nodes, cycles, expressions) is checked
 * by `validateDefinition`.
 */

export const NODE_ID_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const WEBHOOK_PATH_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_./-]{0,199}$/;

const DURATION_MESSAGE = 'must be a duration such as 250ms, 30s, 5m, 2h, 1d';

/** A duration string (`250ms`, `30s`, `5m`, `2h`, `1d`). */
export const durationSchema = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, DURATION_MESSAGE);

const nonEmpty = z.string().min(1);

/** True when the runtime knows the IANA time zone. */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const retryPolicyOptionsSchema = z.strictObject({
  attempts: z.number().int().min(1).max(100).optional(),
  backoff: z.enum(['exponential', 'fixed']).optional(),
  delay: durationSchema.optional(),
  maxDelay: durationSchema.optional(),
});

export const workflowSettingsSchema = z.strictObject({
  timeout: durationSchema.optional(),
  concurrency: z.number().int().min(1).optional(),
  priority: z.enum(['low', 'normal', 'high']).optional(),
  retry: retryPolicyOptionsSchema.optional(),
});

/** A cron trigger (`CronTrigger` of model.ts). The schedule's message says what is wrong with it. */
export const cronTriggerSchema = z.strictObject({
  type: z.literal('cron'),
  schedule: nonEmpty.superRefine((schedule, ctx) => {
    const problem = cronScheduleError(schedule);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
  /** How late a fire may still start a run. Default: 5m. */
  misfireWindow: durationSchema.optional(),
});

export const webhookTriggerSchema = z.strictObject({
  type: z.literal('webhook'),
  path: z.string().regex(WEBHOOK_PATH_PATTERN),
  respond: z.enum(['async', 'sync']).optional(),
  secret: z.strictObject({ credential: nonEmpty }).optional(),
  contentTypes: z.array(nonEmpty).min(1).optional(),
});

/** Which address field each event source uses. */
export const EVENT_ADDRESS_FIELD = { amqp: 'queue', nats: 'subject', mqtt: 'topic' } as const;

export const eventTriggerSchema = z
  .strictObject({
    type: z.literal('event'),
    source: z.enum(['amqp', 'nats', 'mqtt']),
    credential: nonEmpty,
    queue: nonEmpty.optional(),
    subject: nonEmpty.optional(),
    topic: nonEmpty.optional(),
  })
  .superRefine((trigger, ctx) => {
    const wanted = EVENT_ADDRESS_FIELD[trigger.source];
    for (const field of Object.values(EVENT_ADDRESS_FIELD)) {
      const present = trigger[field] !== undefined;
      if (field === wanted && !present) {
        ctx.addIssue({ code: 'custom', path: [field], message: `required for source ${trigger.source}` });
      } else if (field !== wanted && present) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `not allowed for source ${trigger.source} (use ${wanted})`,
        });
      }
    }
  });

export const triggerDefinitionSchema = z.discriminatedUnion('type', [
  cronTriggerSchema,
  webhookTriggerSchema,
  eventTriggerSchema,
]);

export const nodeDefinitionSchema = z.strictObject({
  id: z.string().regex(NODE_ID_PATTERN),
  type: nonEmpty,
  name: z.string().max(200).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  credential: nonEmpty.optional(),
  retry: retryPolicyOptionsSchema.optional(),
  timeout: durationSchema.optional(),
  position: z.strictObject({ x: z.number(), y: z.number() }).optional(),
});

export const edgeDefinitionSchema = z.strictObject({
  from: nonEmpty,
  to: nonEmpty,
  port: nonEmpty.optional(),
});

const graphShape = {
  nodes: z.array(nodeDefinitionSchema),
  edges: z.array(edgeDefinitionSchema).default([]),
};

/** A graph: the top level of a workflow, or an inline graph such as `flow.forEach`'s `do`. */
export const graphDefinitionSchema = z.strictObject(graphShape) satisfies z.ZodType<GraphDefinition>;

/**
 * A whole workflow definition. `satisfies` proves at compile time that what the schema accepts is a
 * `WorkflowDefinition` of model.ts.
 */
export const workflowDefinitionSchema = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  triggers: z.array(triggerDefinitionSchema).optional(),
  settings: workflowSettingsSchema.optional(),
  ...graphShape,
}) satisfies z.ZodType<WorkflowDefinition>;
