import { type Access, roleAllows } from '@automateiq/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../security/authenticator';
import type { Principal, TenantContext } from '../security/principal';
import type { RateLimiter } from '../security/rate-limiter';
import type { TenantRecord } from '../store/queries/get-tenant';
import { ApiError } from './api-error';

/**
 * The one place where the API decides who may call what (docs/permissions.md):
 * 1. the route's access rule (from its contract): public, session, platform or tenant + permission;
 * 2. authentication (API key or access token); unauthenticated and public calls count against the
 *    caller's IP address;
 * 3. the tenant: an API key's own; a user's from `X-Tenant-ID`, or their only membership; on a
 *    route that names a tenant (`/v1/tenants/:id`), that one. A tenant the caller cannot see is a
 *    404, as if it did not exist;
 * 4. the permission (the user's role, or the key's scopes), then suspension and the tenant's
 *    request rate.
 */
export function createAccessHook(deps: {
  authenticator: Authenticator;
  limiter: RateLimiter;
  ipRequestsPerMinute: number;
}) {
  const { authenticator, limiter } = deps;

  function limitIp(request: FastifyRequest): void {
    const verdict = limiter.hit(`ip:${request.ip}`, deps.ipRequestsPerMinute);
    if (!verdict.allowed) throw rateLimited(verdict.retryAfterSeconds, 'requests from your address', deps.ipRequestsPerMinute);
  }

  return async function accessHook(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    request.auth = { ip: request.ip };
    const access: Access | undefined = request.routeOptions.config.access;
    // Routes without a contract (health, docs) are public.
    if (!access || access.kind === 'public') {
      if (access) limitIp(request);
      return;
    }
    const principal = await authenticator.authenticate(request.headers.authorization);
    if (!principal) {
      limitIp(request);
      throw new ApiError('AIQ_UNAUTHENTICATED', 'send Authorization: Bearer <API key or access token>', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    request.auth.principal = principal;
    switch (access.kind) {
      case 'session':
        await resolveOptionalTenant(request, principal);
        return;
      case 'platform':
        if (principal.kind !== 'user' || !principal.platformAdmin)
          throw new ApiError('AIQ_FORBIDDEN', 'only a platform admin may do this');
        return;
      case 'tenant':
        await resolveTenant(request, principal, access);
        return;
    }
  };

  async function resolveOptionalTenant(request: FastifyRequest, principal: Principal): Promise<void> {
    if (principal.kind === 'apiKey') {
      const tenant = await authenticator.tenant(principal.tenantId);
      if (!tenant) throw new ApiError('AIQ_UNAUTHENTICATED', 'the API key belongs to no tenant');
      if (tenant.status === 'suspended') throw new ApiError('AIQ_TENANT_SUSPENDED', `tenant ${tenant.slug} is suspended`);
      request.auth.tenant = toContext(tenant);
      return;
    }
    const named = headerTenant(request);
    if (named === undefined) return;
    const access = await authenticator.userAccess(principal.userId);
    const membership = access?.memberships.find((m) => m.tenant.id === named || m.tenant.slug === named);
    if (!membership) throw new ApiError('AIQ_TENANT_NOT_FOUND', `you belong to no tenant "${named}"`);
    request.auth.tenant = toContext(membership.tenant);
    request.auth.role = membership.role;
  }

  async function resolveTenant(
    request: FastifyRequest,
    principal: Principal,
    access: Extract<Access, { kind: 'tenant' }>,
  ): Promise<void> {
    const target = access.platformAdmin ? (request.params as { id?: string }).id : undefined;
    if (principal.kind === 'user' && principal.platformAdmin && access.platformAdmin && target !== undefined) {
      // Platform admins manage every tenant through the routes that name one.
      const tenant = await authenticator.tenant(target);
      if (!tenant) throw new ApiError('AIQ_TENANT_NOT_FOUND', `tenant ${target} does not exist`);
      request.auth.tenant = toContext(tenant);
      return;
    }
    let tenant: TenantContext;
    if (principal.kind === 'apiKey') {
      const record = await authenticator.tenant(principal.tenantId);
      if (!record) throw new ApiError('AIQ_UNAUTHENTICATED', 'the API key belongs to no tenant');
      tenant = toContext(record);
      if (!principal.scopes.has(access.permission))
        throw new ApiError('AIQ_FORBIDDEN', `the API key lacks the scope ${access.permission}`, {
          extensions: { permission: access.permission },
        });
    } else {
      const userAccess = await authenticator.userAccess(principal.userId);
      const memberships = userAccess?.memberships ?? [];
      const named = headerTenant(request) ?? target;
      let membership;
      if (named !== undefined) {
        membership = memberships.find((m) => m.tenant.id === named || m.tenant.slug === named);
        if (!membership) throw new ApiError('AIQ_TENANT_NOT_FOUND', `tenant ${named} does not exist`);
      } else if (memberships.length === 1) {
        membership = memberships[0];
      } else if (memberships.length === 0) {
        throw new ApiError('AIQ_FORBIDDEN', 'you belong to no tenant');
      } else {
        throw new ApiError('AIQ_TENANT_REQUIRED', 'you belong to several tenants: name one with X-Tenant-ID', {
          errors: [{ path: 'headers.x-tenant-id', message: 'required: you belong to several tenants' }],
        });
      }
      if (!membership) throw new ApiError('AIQ_FORBIDDEN', 'you belong to no tenant');
      tenant = toContext(membership.tenant);
      request.auth.role = membership.role;
      if (tenant.requireMfa && !principal.totpEnabled)
        throw new ApiError('AIQ_MFA_ENROLMENT_REQUIRED', `tenant ${tenant.slug} requires TOTP: enrol with POST /v1/me/totp`);
      if (!roleAllows(membership.role, access.permission))
        throw new ApiError('AIQ_FORBIDDEN', `the role ${membership.role} does not allow ${access.permission}`, {
          extensions: { permission: access.permission, role: membership.role },
        });
    }
    // A route that names a tenant answers only for the caller's own.
    if (target !== undefined && target !== tenant.id)
      throw new ApiError('AIQ_TENANT_NOT_FOUND', `tenant ${target} does not exist`);
    if (tenant.status === 'suspended')
      throw new ApiError('AIQ_TENANT_SUSPENDED', `tenant ${tenant.slug} is suspended`);
    const perMinute = tenant.quotas.apiRequestsPerMinute;
    if (perMinute !== null && perMinute !== undefined) {
      const verdict = limiter.hit(`tenant:${tenant.id}`, perMinute);
      if (!verdict.allowed) throw rateLimited(verdict.retryAfterSeconds, 'apiRequestsPerMinute', perMinute);
    } else {
      limiter.hit(`tenant:${tenant.id}`, Number.MAX_SAFE_INTEGER);
    }
    request.auth.tenant = tenant;
  }
}

function headerTenant(request: FastifyRequest): string | undefined {
  const value = request.headers['x-tenant-id'];
  if (Array.isArray(value)) return value[0];
  return value === undefined || value === '' ? undefined : value;
}

function toContext(tenant: TenantRecord): TenantContext {
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    plan: tenant.plan,
    quotas: tenant.quotas,
    requireMfa: tenant.requireMfa,
  };
}

/** 429 for a used-up request budget: the tenant's apiRequestsPerMinute quota, or another named limit. */
export function rateLimited(retryAfterSeconds: number, what: string, limit: number): ApiError {
  const isQuota = what === 'apiRequestsPerMinute';
  return new ApiError('AIQ_RATE_LIMITED', isQuota
    ? `the tenant's quota apiRequestsPerMinute (${limit}) is used up: retry in ${retryAfterSeconds} s`
    : `too many ${what} (${limit} a minute): retry in ${retryAfterSeconds} s`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
    extensions: isQuota ? { quota: 'apiRequestsPerMinute', limit } : { limit },
  });
}
