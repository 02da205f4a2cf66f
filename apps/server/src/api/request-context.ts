import type { Access } from '@automateiq/contracts';
import type { FastifyRequest } from 'fastify';
import type { AuditActor, Principal, RequestAuth, TenantContext } from '../security/principal';
import { auditActorOf } from '../security/principal';
import { ApiError } from './api-error';

declare module 'fastify' {
  interface FastifyRequest {
    auth: RequestAuth;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** The tenant the access hook resolved; tenant routes always have one. */
export function tenantOf(request: FastifyRequest): TenantContext {
  const tenant = request.auth.tenant;
  if (!tenant) throw new Error(`route ${request.routeOptions.url ?? request.url} has no tenant: is its access 'tenant'?`);
  return tenant;
}

export function principalOf(request: FastifyRequest): Principal {
  const principal = request.auth.principal;
  if (!principal) throw new ApiError('AIQ_UNAUTHENTICATED', 'send Authorization: Bearer <API key or access token>');
  return principal;
}

/** Who did it and from where, for the audit trail. */
export function actorOf(request: FastifyRequest): { actor: AuditActor; ip: string } {
  return { actor: auditActorOf(request.auth.principal), ip: request.auth.ip };
}
