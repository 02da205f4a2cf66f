import { z } from 'zod';
import { idParams, isoTime, jsonValue, pageOf, pageQuery, uuidSchema } from './common';
import { Permission } from './permissions';
import { defineRoute } from './route';

export const runStatusSchema = z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled']);
export const stepStatusSchema = z.enum([
  'pending',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]);

export const stepErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  details: jsonValue.optional(),
}).loose();

export const attemptSchema = z.strictObject({
  attempt: z.int(),
  status: stepStatusSchema,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  error: stepErrorSchema.nullable(),
});

export const stepSchema = z.strictObject({
  nodeId: z.string(),
  /** The forEach item path (`each[2]`, `each[2].inner[0]`); null at the top level. */
  item: z.string().nullable(),
  status: stepStatusSchema,
  port: z.string().nullable(),
  attempts: z.int(),
  history: z.array(attemptSchema),
  input: jsonValue.nullable(),
  output: jsonValue.nullable(),
  error: stepErrorSchema.nullable(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});

export const runSummarySchema = z.strictObject({
  id: uuidSchema,
  workflowId: uuidSchema,
  version: z.int(),
  status: runStatusSchema,
  trigger: z.record(z.string(), jsonValue),
  error: stepErrorSchema.nullable(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});

export const runSchema = runSummarySchema.extend({
  input: jsonValue.nullable(),
  output: jsonValue.nullable(),
  steps: z.array(stepSchema),
});

export const startRun = defineRoute({
  method: 'POST',
  url: '/v1/workflows/:id/runs',
  summary: 'Start a run (a repeated Idempotency-Key returns the first run)',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runStart },
  params: idParams,
  headers: z.object({
    'idempotency-key': z.string().min(1).max(200).optional(),
  }),
  body: z.strictObject({
    input: jsonValue.optional(),
    /** A version to run; default: the latest. */
    version: z.int().min(1).optional(),
  }),
  response: {
    202: z.strictObject({ id: uuidSchema, status: runStatusSchema, created: z.boolean() }),
  },
});

export const listRuns = defineRoute({
  method: 'GET',
  url: '/v1/runs',
  summary: 'Runs, newest first, filtered by workflow and status',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runRead },
  querystring: pageQuery.extend({
    workflowId: uuidSchema.optional(),
    status: runStatusSchema.optional(),
  }),
  response: { 200: pageOf(runSummarySchema) },
});

export const getRun = defineRoute({
  method: 'GET',
  url: '/v1/runs/:id',
  summary: 'A run with its steps',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runRead },
  params: idParams,
  response: { 200: runSchema },
});

export const logEntrySchema = z.strictObject({
  at: isoTime,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  nodeId: z.string().nullable(),
  item: z.string().nullable(),
  attempt: z.int().nullable(),
  message: z.string(),
  data: jsonValue.optional(),
});

export const getRunLogs = defineRoute({
  method: 'GET',
  url: '/v1/runs/:id/logs',
  summary: "A run's log: its steps' starts, ends and errors in time order",
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runRead },
  params: idParams,
  response: { 200: z.strictObject({ items: z.array(logEntrySchema) }) },
});

export const cancelRun = defineRoute({
  method: 'POST',
  url: '/v1/runs/:id/cancel',
  summary: 'Cancel a run that has not finished',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runControl },
  params: idParams,
  response: { 202: z.strictObject({ id: uuidSchema, status: runStatusSchema }) },
});

export const retryRun = defineRoute({
  method: 'POST',
  url: '/v1/runs/:id/retry',
  summary: 'Retry a failed run from its failed steps: a new run that keeps the completed steps',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runControl },
  params: idParams,
  response: { 202: z.strictObject({ id: uuidSchema, status: runStatusSchema, retryOf: uuidSchema }) },
});

/** An event's name, as `flow.waitForEvent` names it. */
export const eventNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, { error: 'letters, digits, _ . : - (1-200), starting with a letter or digit' });

export const runEventBody = z.strictObject({ name: eventNameSchema, payload: jsonValue.optional() });
export const runEventAnswer = z.strictObject({
  id: uuidSchema.describe('The event'),
  runId: uuidSchema,
  delivered: z.boolean().describe('A step waiting for it took it; false: it is kept for the first step that waits for it'),
  nodeId: z.string().nullable().describe('The node that took it'),
});

export const sendRunEvent = defineRoute({
  method: 'POST',
  url: '/v1/runs/:id/events',
  summary: 'Deliver an event to a run: a flow.waitForEvent step waiting for its name takes it',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runControl },
  params: idParams,
  body: runEventBody,
  response: { 202: runEventAnswer },
});

export const approvalDecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().max(2_000).optional(),
});
export const approvalDecision = z.strictObject({
  runId: uuidSchema,
  nodeId: z.string(),
  decision: z.enum(['approve', 'reject']),
  by: z.strictObject({ userId: uuidSchema, email: z.string() }),
  at: isoTime,
  comment: z.string().optional(),
});

export const decideApproval = defineRoute({
  method: 'POST',
  url: '/v1/runs/:id/approvals/:nodeId',
  summary: "Approve or reject a run's waiting flow.approval step (members with a role the step permits)",
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runRead },
  params: z.strictObject({ id: uuidSchema, nodeId: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { error: 'not a node id' }) }),
  body: approvalDecisionBody,
  response: { 202: approvalDecision },
});

export const resumeRun = defineRoute({
  method: 'POST',
  url: '/resume/:tenantId/:runId/:token',
  summary: "Deliver an event to a run through its resume URL (run.resumeUrl): the token is the credential",
  tags: ['runs'],
  access: { kind: 'public' },
  params: z.strictObject({ tenantId: uuidSchema, runId: uuidSchema, token: z.string().min(1).max(200) }),
  body: runEventBody,
  response: { 202: runEventAnswer },
});

export const streamRun = defineRoute({
  method: 'GET',
  url: '/v1/runs/:id/stream',
  summary:
    'Server-sent events of the run and its steps, ending when the run ends: first a snapshot (`run`, then ' +
    'one `step` per step), then `run` (the run without steps) when it changes and `step` (a step as in ' +
    '`GET /v1/runs/:id`) when a step changes',
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runRead },
  params: idParams,
  response: {},
  stream: true,
});

export const streamTenant = defineRoute({
  method: 'GET',
  url: '/v1/stream',
  summary: "Server-sent events of every run change of the tenant (`run`: the run's summary), optionally of one workflow",
  tags: ['runs'],
  access: { kind: 'tenant', permission: Permission.runRead },
  querystring: z.strictObject({ workflowId: uuidSchema.optional() }),
  response: {},
  stream: true,
});
