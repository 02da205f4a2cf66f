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
          type: z.string(),
          connector: z.string(),
          description: z.string().nullable(),
          ports: z.array(z.string()),
          paramsSchema: z.record(z.string(), jsonValue),
        }),
      ),
    }),
  },
});
