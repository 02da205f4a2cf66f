import { z } from 'zod';
import { idParams, isoTime, jsonValue, pageOf, pageQuery, uuidSchema } from './common';
import { Permission } from './permissions';
import { defineRoute } from './route';

/**
 * How a field's value is checked: `text` a non-empty string; `url` an absolute URL; `port` a whole
 * number from 1 to 65535; `boolean`; `textList` a non-empty string or list of non-empty strings;
 * `choice` one of the field's `choices`.
 */
export type CredentialFieldKind = 'text' | 'url' | 'port' | 'boolean' | 'textList' | 'choice';

/** One field of a credential type. */
export interface CredentialFieldSpec {
  /** Encrypted at rest, never returned, masked wherever it could appear. */
  secret: boolean;
  required: boolean;
  kind: CredentialFieldKind;
  choices?: readonly string[];
}

const text = (secret: boolean, required: boolean) => ({ secret, required, kind: 'text' }) as const;

/**
 * Credential types and their fields. `secret` fields are encrypted at rest, never returned by the API
 * and masked wherever they could appear (step outputs, errors, logs).
 */
export const CREDENTIAL_TYPES = {
  basic: { fields: { username: text(false, true), password: text(true, true) } },
  bearer: { fields: { token: text(true, true) } },
  apiKey: {
    fields: {
      key: text(true, true),
      /** Header that carries the key. Default: X-API-Key. */
      header: text(false, false),
      /** Or a query parameter that carries it (instead of a header). */
      query: text(false, false),
    },
  },
  oauth2ClientCredentials: {
    fields: {
      tokenUrl: { secret: false, required: true, kind: 'url' },
      clientId: text(false, true),
      clientSecret: text(true, true),
      scope: text(false, false),
      audience: text(false, false),
      /** How the client authenticates to the token endpoint: HTTP Basic (default) or form fields in the body. */
      clientAuth: { secret: false, required: false, kind: 'choice', choices: ['basic', 'body'] },
    },
  },
  smtp: {
    fields: {
      host: text(false, true),
      /** Default: 465 when `secure`, else 587. */
      port: { secret: false, required: false, kind: 'port' },
      /** TLS from the first byte (port 465). Default: false. */
      secure: { secret: false, required: false, kind: 'boolean' },
      username: text(false, false),
      password: text(true, false),
      from: text(false, false),
    },
  },
  database: { fields: { url: { secret: true, required: true, kind: 'url' } } },
  amqp: { fields: { url: { secret: true, required: true, kind: 'url' } } },
  nats: {
    fields: {
      servers: { secret: false, required: true, kind: 'textList' },
      token: text(true, false),
      username: text(false, false),
      password: text(true, false),
    },
  },
  mqtt: {
    fields: {
      url: { secret: false, required: true, kind: 'url' },
      username: text(false, false),
      password: text(true, false),
    },
  },
  secret: { fields: { value: text(true, true) } },
} as const satisfies Record<string, { fields: Record<string, CredentialFieldSpec> }>;
export type CredentialType = keyof typeof CREDENTIAL_TYPES;
export const credentialTypeSchema = z.enum(Object.keys(CREDENTIAL_TYPES) as [CredentialType, ...CredentialType[]]);

export const CREDENTIAL_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/;

const credentialBody = z.strictObject({
  name: z.string().regex(CREDENTIAL_NAME_PATTERN, {
    error: 'must be 1-100 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  }),
  type: credentialTypeSchema,
  /**
   * The type's fields (see CREDENTIAL_TYPES); secret fields are write-only. On PUT, a secret field left
   * out keeps its stored value; `null` clears an optional field.
   */
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
