import type { z } from 'zod';
import type { Permission } from './permissions';

/**
 * Who may call a route:
 * - `public`: anybody (login, refresh, accepting an invite);
 * - `session`: any authenticated caller, with or without a tenant (`/v1/me`, logout);
 * - `platform`: platform admins only (onboarding tenants);
 * - `tenant`: a member of the tenant (or an API key of it) whose role (or scopes) grant `permission`;
 *   `platformAdmin: true` lets platform admins through for any tenant as well.
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'session' }
  | { kind: 'platform' }
  | { kind: 'tenant'; permission: Permission; platformAdmin?: boolean };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route of the API: its address, who may call it, and the schemas of what goes in and out. */
export interface RouteContract {
  method: HttpMethod;
  url: string;
  summary: string;
  tags: readonly string[];
  access: Access;
  params?: z.ZodType;
  querystring?: z.ZodType;
  headers?: z.ZodType;
  body?: z.ZodType;
  /** Response schemas by status; a route answering with a stream names none. */
  response: Readonly<Record<number, z.ZodType>>;
  /** The response is a server-sent event stream. */
  stream?: boolean;
}

export function defineRoute<const R extends RouteContract>(route: R): R {
  return route;
}
