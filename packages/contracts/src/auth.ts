import { z } from 'zod';
import { isoTime, uuidSchema } from './common';
import { Role } from './permissions';
import { defineRoute } from './route';

export const emailSchema = z.email({ error: 'must be an e-mail address' }).max(254);
/** At least 12 characters; at most 200. */
export const passwordSchema = z.string().min(12, { error: 'must be at least 12 characters' }).max(200);
export const totpCodeSchema = z.string().regex(/^\d{6}$/, { error: 'must be 6 digits' });
export const roleSchema = z.enum(Role);

export const userSchema = z.strictObject({
  id: uuidSchema,
  email: z.string(),
  name: z.string().nullable(),
  platformAdmin: z.boolean(),
  totpEnabled: z.boolean(),
  createdAt: isoTime,
});

export const sessionSchema = z.strictObject({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.int(),
  user: userSchema,
});

const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(200) });

export const login = defineRoute({
  method: 'POST',
  url: '/v1/auth/login',
  summary: 'Log in with e-mail, password and (when enrolled) a TOTP code',
  tags: ['auth'],
  access: { kind: 'public' },
  body: z.strictObject({
    email: emailSchema,
    password: z.string().min(1).max(200),
    totp: totpCodeSchema.optional(),
  }),
  response: { 200: sessionSchema },
});

export const refresh = defineRoute({
  method: 'POST',
  url: '/v1/auth/refresh',
  summary: 'Trade a refresh token for a new session (the token is used up)',
  tags: ['auth'],
  access: { kind: 'public' },
  body: refreshBody,
  response: { 200: sessionSchema },
});

export const logout = defineRoute({
  method: 'POST',
  url: '/v1/auth/logout',
  summary: "Revoke the refresh token's session",
  tags: ['auth'],
  access: { kind: 'public' },
  body: refreshBody,
  response: { 204: z.null() },
});

export const acceptInvite = defineRoute({
  method: 'POST',
  url: '/v1/auth/accept-invite',
  summary: 'Set the password of an invited user',
  tags: ['auth'],
  access: { kind: 'public' },
  body: z.strictObject({ token: z.string().min(1).max(200), password: passwordSchema }),
  response: { 200: sessionSchema },
});

export const totpEnrol = defineRoute({
  method: 'POST',
  url: '/v1/me/totp',
  summary: 'Start TOTP enrolment: returns the secret and an otpauth:// URI',
  tags: ['auth'],
  access: { kind: 'session' },
  response: { 200: z.strictObject({ secret: z.string(), uri: z.string() }) },
});

export const totpConfirm = defineRoute({
  method: 'POST',
  url: '/v1/me/totp/confirm',
  summary: 'Finish TOTP enrolment with a current code',
  tags: ['auth'],
  access: { kind: 'session' },
  body: z.strictObject({ code: totpCodeSchema }),
  response: { 200: userSchema },
});

export const totpDisable = defineRoute({
  method: 'DELETE',
  url: '/v1/me/totp',
  summary: 'Turn TOTP off (needs a current code)',
  tags: ['auth'],
  access: { kind: 'session' },
  body: z.strictObject({ code: totpCodeSchema }),
  response: { 200: userSchema },
});

export const me = defineRoute({
  method: 'GET',
  url: '/v1/me',
  summary: 'The caller, its tenants and roles',
  tags: ['auth'],
  access: { kind: 'session' },
  response: {
    200: z.strictObject({
      kind: z.enum(['user', 'apiKey']),
      user: userSchema.nullable(),
      apiKey: z.strictObject({ id: uuidSchema, name: z.string(), scopes: z.array(z.string()) }).nullable(),
      tenantId: uuidSchema.nullable(),
      tenants: z.array(
        z.strictObject({ id: uuidSchema, slug: z.string(), name: z.string(), role: roleSchema }),
      ),
    }),
  },
});
