import type { Permission, Quotas, Role } from '@automateiq/contracts';

/** Who is calling: a logged-in user (JWT) or a tenant's API key. */
export type Principal =
  | { kind: 'user'; userId: string; email: string; platformAdmin: boolean; totpEnabled: boolean; sessionId: string }
  | { kind: 'apiKey'; keyId: string; name: string; tenantId: string; scopes: ReadonlySet<Permission> };

/** The tenant a request acts on, as the access check and the quotas need it. */
export interface TenantContext {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  plan: string;
  quotas: Quotas;
  requireMfa: boolean;
}

/** What authentication and the access check established for a request. */
export interface RequestAuth {
  principal?: Principal;
  tenant?: TenantContext;
  /** The user's role in `tenant` (users only). */
  role?: Role;
  ip: string;
}

/** Who an audit record names. */
export interface AuditActor {
  type: 'user' | 'apiKey' | 'system' | 'anonymous';
  id: string | null;
  label: string | null;
}

export function auditActorOf(principal: Principal | undefined): AuditActor {
  if (!principal) return { type: 'anonymous', id: null, label: null };
  return principal.kind === 'user'
    ? { type: 'user', id: principal.userId, label: principal.email }
    : { type: 'apiKey', id: principal.keyId, label: principal.name };
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null, label: 'automateiq' };
