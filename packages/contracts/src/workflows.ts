import { z } from 'zod';
import { fieldErrorSchema, idParams, isoTime, jsonValue, pageOf, pageQuery, uuidSchema } from './common';
import { Permission } from './permissions';
import { defineRoute } from './route';

/** A workflow definition (CONTRACT.md); checked in full by the core's validator, with exact paths. */
export const definitionSchema = z
  .record(z.string(), jsonValue)
  .meta({ id: 'WorkflowDefinition', description: 'A workflow definition (see docs/workflow-format.md)' });

export const workflowSchema = z.strictObject({
  id: uuidSchema,
  name: z.string(),
  description: z.string().nullable(),
  version: z.int(),
  active: z.boolean(),
  definition: definitionSchema,
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const workflowSummarySchema = workflowSchema.omit({ definition: true });

export const versionSchema = z.strictObject({
  workflowId: uuidSchema,
  version: z.int(),
  definition: definitionSchema,
  createdAt: isoTime,
});

const definitionBody = z.strictObject({ definition: definitionSchema });

export const listWorkflows = defineRoute({
  method: 'GET',
  url: '/v1/workflows',
  summary: 'Workflows, newest first',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowRead },
  querystring: pageQuery.extend({
    active: z.enum(['true', 'false']).optional(),
    name: z.string().min(1).max(200).optional(),
  }),
  response: { 200: pageOf(workflowSummarySchema) },
});

export const createWorkflow = defineRoute({
  method: 'POST',
  url: '/v1/workflows',
  summary: 'Create a workflow (version 1)',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowWrite },
  body: definitionBody,
  response: { 201: workflowSchema },
});

export const validateWorkflow = defineRoute({
  method: 'POST',
  url: '/v1/workflows/validate',
  summary: 'Validate a definition without saving it',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowRead },
  body: definitionBody,
  response: { 200: z.strictObject({ valid: z.boolean(), errors: z.array(fieldErrorSchema) }) },
});

export const getWorkflow = defineRoute({
  method: 'GET',
  url: '/v1/workflows/:id',
  summary: 'A workflow with its latest definition',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowRead },
  params: idParams,
  response: { 200: workflowSchema },
});

export const updateWorkflow = defineRoute({
  method: 'PUT',
  url: '/v1/workflows/:id',
  summary: 'Replace the definition: a changed definition is a new immutable version',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowWrite },
  params: idParams,
  body: definitionBody,
  response: { 200: workflowSchema },
});

export const deleteWorkflow = defineRoute({
  method: 'DELETE',
  url: '/v1/workflows/:id',
  summary: 'Delete a workflow (its runs stay readable)',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowWrite },
  params: idParams,
  response: { 204: z.null() },
});

export const listVersions = defineRoute({
  method: 'GET',
  url: '/v1/workflows/:id/versions',
  summary: "A workflow's versions, newest first",
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowRead },
  params: idParams,
  querystring: pageQuery,
  response: { 200: pageOf(versionSchema) },
});

export const getVersion = defineRoute({
  method: 'GET',
  url: '/v1/workflows/:id/versions/:version',
  summary: 'One version of a workflow',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowRead },
  params: z.strictObject({ id: uuidSchema, version: z.coerce.number().int().min(1).max(2_147_483_647) }),
  response: { 200: versionSchema },
});

export const activateWorkflow = defineRoute({
  method: 'POST',
  url: '/v1/workflows/:id/activate',
  summary: "Activate a workflow (arms its triggers)",
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowWrite },
  params: idParams,
  response: { 200: workflowSchema },
});

export const deactivateWorkflow = defineRoute({
  method: 'POST',
  url: '/v1/workflows/:id/deactivate',
  summary: 'Deactivate a workflow (disarms its triggers; API and manual runs still work)',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowWrite },
  params: idParams,
  response: { 200: workflowSchema },
});
