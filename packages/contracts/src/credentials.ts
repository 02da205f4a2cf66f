import { z } from 'zod';
import { idParams, isoTime, jsonValue, pageOf, pageQuery, uuidSchema } from './common';
import { Permission } from './permissions';
import { defineRoute } from './route';

/**
 * Credential types and their fields. `secret` fields are encrypted at rest, never returned by the API
 * and masked wherever they could appear (step inputs, outputs, logs, errors).
 */
export const CREDENTIAL_TYPES = {
  basic: { fields: { username: { secret: false, required: true }, password: { secret: true, required: true } } },
  bearer: { fields: { token: { secret: true, required: true } } },
  apiKey: {
    fields: {
      key: { secret: true, required: true },
      /** Header that carries the key. Default: X-API-Key. */
      header: { secret: false, required: false },
      /** Or a query parameter that carries it. */
      query: { secret: false, required: false },
    },
  },
  oauth2ClientCredentials: {
    fields: {
      tokenUrl: { secret: false, required: true },
      clientId: { secret: false, required: true },
      clientSecret: { secret: true, required: true },
      scope: { secret: false, required: false },
      audience: { secret: false, required: false },
    },
  },
  smtp: {
    fields: {
      host: { secret: false, required: true },
      port: { secret: false, required: false },
      secure: { secret: false, required: false },
      username: { secret: false, required: false },
      password: { secret: true, required: false },
      from: { secret: false, required: false },
    },
  },
  database: { fields: { url: { secret: true, required: true } } },
  amqp: { fields: { url: { secret: true, required: true } } },
  nats: {
    fields: {
      servers: { secret: false, required: true },
      token: { secret: true, required: false },
      username: { secret: false, required: false },
      password: { secret: true, required: false },
    },
  },
  mqtt: {
    fields: {
      url: { secret: false, required: true },
      username: { secret: false, required: false },
      password: { secret: true, required: false },
    },
  },
  secret: { fields: { value: { secret: true, required: true } } },
} as const;
export type CredentialType = keyof typeof CREDENTIAL_TYPES;
export const credentialTypeSchema = z.enum(Object.keys(CREDENTIAL_TYPES) as [CredentialType, ...CredentialType[]]);

export const CREDENTIAL_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/;

const credentialBody = z.strictObject({
  name: z.string().regex(CREDENTIAL_NAME_PATTERN, {
    error: 'must be 1-100 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  }),
  type: credentialTypeSchema,
  /** The type's fields; secret fields are write-only. */
  data: z.record(z.string(), jsonValue),
});

export const credentialSchema = z.strictObject({
  id: uuidSchema,
  name: z.string(),
  type: credentialTypeSchema,
  /** The non-secret fields. */
  data: z.record(z.string(), jsonValue),
  /** The names of the secret fields that are set (their values are never returned). */
  secretFields: z.array(z.string()),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const listCredentials = defineRoute({
  method: 'GET',
  url: '/v1/credentials',
  summary: 'Credentials (secret fields never returned)',
  tags: ['credentials'],
  access: { kind: 'tenant', permission: Permission.credentialRead },
  querystring: pageQuery,
  response: { 200: pageOf(credentialSchema) },
});

export const createCredential = defineRoute({
  method: 'POST',
  url: '/v1/credentials',
  summary: 'Store a credential (secret fields encrypted)',
  tags: ['credentials'],
  access: { kind: 'tenant', permission: Permission.credentialWrite },
  body: credentialBody,
  response: { 201: credentialSchema },
});

export const getCredential = defineRoute({
  method: 'GET',
  url: '/v1/credentials/:id',
  summary: 'A credential (secret fields never returned)',
  tags: ['credentials'],
  access: { kind: 'tenant', permission: Permission.credentialRead },
  params: idParams,
  response: { 200: credentialSchema },
});

export const updateCredential = defineRoute({
  method: 'PUT',
  url: '/v1/credentials/:id',
  summary: 'Replace a credential; a secret field left out keeps its stored value',
  tags: ['credentials'],
  access: { kind: 'tenant', permission: Permission.credentialWrite },
  params: idParams,
  body: credentialBody,
  response: { 200: credentialSchema },
});

export const deleteCredential = defineRoute({
  method: 'DELETE',
  url: '/v1/credentials/:id',
  summary: 'Delete a credential',
  tags: ['credentials'],
  access: { kind: 'tenant', permission: Permission.credentialWrite },
  params: idParams,
  response: { 204: z.null() },
});

export const testCredential = defineRoute({
  method: 'POST',
  url: '/v1/credentials/:id/test',
  summary: 'Check that a credential works (e.g. fetch an OAuth2 token, connect to SMTP)',
  tags: ['credentials'],
  access: { kind: 'tenant', permission: Permission.credentialWrite },
  params: idParams,
  response: { 200: z.strictObject({ ok: z.boolean(), message: z.string() }) },
});
