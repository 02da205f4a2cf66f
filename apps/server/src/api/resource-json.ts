import { effectiveQuotas } from '@automateiq/contracts';
import type { UserRecord } from '../store/queries/find-user-by-email';
import type { TenantRecord } from '../store/queries/get-tenant';
import type { ApiKeyRecord } from '../store/queries/insert-api-key';

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** How the API shows a tenant, a user and an API key (never a secret). */
export function tenantJson(tenant: TenantRecord) {
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    plan: tenant.plan as 'free' | 'standard' | 'enterprise' | 'unlimited',
    quotas: effectiveQuotas(tenant.plan, tenant.quotas),
    requireMfa: tenant.requireMfa,
    createdAt: tenant.createdAt.toISOString(),
    updatedAt: tenant.updatedAt.toISOString(),
  };
}

export function userJson(user: Pick<UserRecord, 'id' | 'email' | 'name' | 'platformAdmin' | 'totpEnabled' | 'createdAt'>) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    platformAdmin: user.platformAdmin,
    totpEnabled: user.totpEnabled,
    createdAt: user.createdAt.toISOString(),
  };
}

export function apiKeyJson(key: ApiKeyRecord) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    expiresAt: iso(key.expiresAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
    createdAt: key.createdAt.toISOString(),
  };
}
