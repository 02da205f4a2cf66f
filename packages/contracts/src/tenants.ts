import { z } from 'zod';
import { emailSchema, passwordSchema, userSchema } from './auth';
import { idParams, isoTime, uuidSchema } from './common';
import { Permission } from './permissions';
import { planSchema, quotasSchema } from './plans';
import { defineRoute } from './route';

export const TENANT_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const tenantSchema = z.strictObject({
  id: uuidSchema,
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  plan: planSchema,
  quotas: quotasSchema,
  requireMfa: z.boolean(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

/** An API key as lists show it: never the key itself. */
export const apiKeySchema = z.strictObject({
  id: uuidSchema,
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  expiresAt: isoTime.nullable(),
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
  createdAt: isoTime,
});

/** A new API key, with the key itself: shown once, never again. */
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string() });

export const createTenant = defineRoute({
  method: 'POST',
  url: '/v1/tenants',
  summary: 'Onboard a tenant: the tenant, its owner and a first API key, in one transaction',
  tags: ['tenants'],
  access: { kind: 'platform' },
  body: z.strictObject({
    name: z.string().trim().min(1).max(200),
    slug: z.string().regex(TENANT_SLUG_PATTERN, {
      error: 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
    }),
    ownerEmail: emailSchema,
    ownerPassword: passwordSchema.optional(),
    plan: planSchema.optional(),
  }),
  response: {
    201: z.strictObject({
      tenant: tenantSchema,
      owner: userSchema,
      apiKey: createdApiKeySchema,
      /** When no password was given: the owner sets one with POST /v1/auth/accept-invite. */
      inviteToken: z.string().optional(),
    }),
  },
});

export const getTenant = defineRoute({
  method: 'GET',
  url: '/v1/tenants/:id',
  summary: 'A tenant with its plan and quotas',
  tags: ['tenants'],
  access: { kind: 'tenant', permission: Permission.tenantRead, platformAdmin: true },
  params: idParams,
  response: { 200: tenantSchema },
});

export const listTenants = defineRoute({
  method: 'GET',
  url: '/v1/tenants',
  summary: 'All tenants (platform admins)',
  tags: ['tenants'],
  access: { kind: 'platform' },
  querystring: z.strictObject({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(200).optional(),
  }),
  response: { 200: z.strictObject({ items: z.array(tenantSchema), nextCursor: z.string().nullable() }) },
});

export const updateTenant = defineRoute({
  method: 'PATCH',
  url: '/v1/tenants/:id',
  summary: "Change a tenant's name, status, plan or quotas (platform admins); owners may set requireMfa",
  tags: ['tenants'],
  access: { kind: 'tenant', permission: Permission.tenantWrite, platformAdmin: true },
  params: idParams,
  body: z.strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    status: z.enum(['active', 'suspended']).optional(),
    plan: planSchema.optional(),
    quotas: quotasSchema.partial().optional(),
    requireMfa: z.boolean().optional(),
  }),
  response: { 200: tenantSchema },
});
