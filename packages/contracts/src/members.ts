import { z } from 'zod';
import { emailSchema, passwordSchema, roleSchema } from './auth';
import { isoTime, pageOf, pageQuery, uuidSchema } from './common';
import { Permission } from './permissions';
import { defineRoute } from './route';
import { apiKeySchema, createdApiKeySchema } from './tenants';

export const memberSchema = z.strictObject({
  userId: uuidSchema,
  email: z.string(),
  name: z.string().nullable(),
  role: roleSchema,
  totpEnabled: z.boolean(),
  /** False until an invited user has set a password. */
  active: z.boolean(),
  createdAt: isoTime,
});

const userParams = z.strictObject({ userId: uuidSchema });

export const listMembers = defineRoute({
  method: 'GET',
  url: '/v1/members',
  summary: "The tenant's members and their roles",
  tags: ['members'],
  access: { kind: 'tenant', permission: Permission.memberRead },
  querystring: pageQuery,
  response: { 200: pageOf(memberSchema) },
});

export const addMember = defineRoute({
  method: 'POST',
  url: '/v1/members',
  summary: 'Add a member: an existing user joins; a new user gets a password or an invite token',
  tags: ['members'],
  access: { kind: 'tenant', permission: Permission.memberWrite },
  body: z.strictObject({ email: emailSchema, role: roleSchema, password: passwordSchema.optional() }),
  response: { 201: memberSchema.extend({ inviteToken: z.string().optional() }) },
});

export const updateMember = defineRoute({
  method: 'PATCH',
  url: '/v1/members/:userId',
  summary: "Change a member's role",
  tags: ['members'],
  access: { kind: 'tenant', permission: Permission.memberWrite },
  params: userParams,
  body: z.strictObject({ role: roleSchema }),
  response: { 200: memberSchema },
});

export const removeMember = defineRoute({
  method: 'DELETE',
  url: '/v1/members/:userId',
  summary: 'Remove a member from the tenant',
  tags: ['members'],
  access: { kind: 'tenant', permission: Permission.memberWrite },
  params: userParams,
  response: { 204: z.null() },
});

export const listApiKeys = defineRoute({
  method: 'GET',
  url: '/v1/api-keys',
  summary: "The tenant's API keys (never the keys themselves)",
  tags: ['api-keys'],
  access: { kind: 'tenant', permission: Permission.apiKeyRead },
  querystring: pageQuery,
  response: { 200: pageOf(apiKeySchema) },
});

export const createApiKey = defineRoute({
  method: 'POST',
  url: '/v1/api-keys',
  summary: 'Create an API key; the key is shown once',
  tags: ['api-keys'],
  access: { kind: 'tenant', permission: Permission.apiKeyWrite },
  body: z.strictObject({
    name: z.string().trim().min(1).max(200),
    /** Permissions the key grants, within the creator's own; default: all that the creator holds. */
    scopes: z.array(z.enum(Permission)).min(1).max(50).optional(),
    /** When the key stops working; default: never. Must be in the future. */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  }),
  response: { 201: createdApiKeySchema },
});

export const revokeApiKey = defineRoute({
  method: 'DELETE',
  url: '/v1/api-keys/:id',
  summary: 'Revoke an API key',
  tags: ['api-keys'],
  access: { kind: 'tenant', permission: Permission.apiKeyWrite },
  params: z.strictObject({ id: uuidSchema }),
  response: { 204: z.null() },
});
