import { z } from 'zod';
import { isoTime, jsonValue, pageOf } from './common';
import { Permission } from './permissions';
import { defineRoute } from './route';

export const auditRecordSchema = z.strictObject({
  id: z.string(),
  at: isoTime,
  actor: z.strictObject({
    type: z.enum(['user', 'apiKey', 'system', 'anonymous']),
    id: z.string().nullable(),
    label: z.string().nullable(),
  }),
  action: z.string(),
  target: z.strictObject({ type: z.string().nullable(), id: z.string().nullable() }),
  ip: z.string().nullable(),
  details: z.record(z.string(), jsonValue),
});

export const listAudit = defineRoute({
  method: 'GET',
  url: '/v1/audit',
  summary: "The tenant's audit trail, newest first",
  tags: ['audit'],
  access: { kind: 'tenant', permission: Permission.auditRead },
  querystring: z.strictObject({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(100).optional(),
  }),
  response: { 200: pageOf(auditRecordSchema) },
});

export const usageSchema = z.strictObject({
  day: z.string(),
  runsToday: z.int(),
  runsInProgress: z.int(),
  workflows: z.int(),
  apiRequestsThisMinute: z.int(),
});

export const getUsage = defineRoute({
  method: 'GET',
  url: '/v1/usage',
  summary: "The tenant's usage against its quotas",
  tags: ['tenants'],
  access: { kind: 'tenant', permission: Permission.tenantRead },
  response: {
    200: usageSchema.extend({
      quotas: z.record(z.string(), z.int().nullable()),
    }),
  },
});

export const listConnectors = defineRoute({
  method: 'GET',
  url: '/v1/connectors',
  summary: 'The node types with the JSON Schemas of their params',
  tags: ['workflows'],
  access: { kind: 'tenant', permission: Permission.workflowRead },
  response: {
    200: z.strictObject({
      items: z.array(
        z.strictObject({
          /** The node type, e.g. `http.request`. */
          type: z.string(),
          /** The connector (family) it belongs to: the type's first segment, e.g. `http`. */
          connector: z.string(),
          title: z.string(),
          description: z.string().nullable(),
          /** Ports an edge may leave it by: `success`, `error`, then its own (for `flow.switch`, its cases too). */
          ports: z.array(z.string()),
          /** JSON Schema (draft 2020-12) of its params as written; `{}` when it cannot be expressed. */
          paramsSchema: z.record(z.string(), jsonValue),
        }),
      ),
    }),
  },
});
