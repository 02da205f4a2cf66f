import { auth as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { getUser } from '../../store/queries/get-user';
import type { ApiDeps } from '../api-deps';
import { ApiError } from '../api-error';
import { principalOf } from '../request-context';
import { userJson } from '../resource-json';
import { routeOptions } from '../route-options';

/** `GET /v1/me`: the caller, its tenants and roles. */
export function meRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.route({
      ...routeOptions(contract.me),
      handler: async (request) => {
        const principal = principalOf(request);
        if (principal.kind === 'apiKey') {
          return {
            kind: 'apiKey' as const,
            user: null,
            apiKey: { id: principal.keyId, name: principal.name, scopes: [...principal.scopes] },
            tenantId: principal.tenantId,
            tenants: [],
          };
        }
        const [user, access] = await Promise.all([
          getUser(deps.db.system, principal.userId),
          deps.authenticator.userAccess(principal.userId),
        ]);
        if (!user) throw new ApiError('AIQ_UNAUTHENTICATED', 'the user no longer exists');
        return {
          kind: 'user' as const,
          user: userJson(user),
          apiKey: null,
          tenantId: request.auth.tenant?.id ?? (access?.memberships.length === 1 ? (access.memberships[0]?.tenant.id ?? null) : null),
          tenants: (access?.memberships ?? []).map((m) => ({ id: m.tenant.id, slug: m.tenant.slug, name: m.tenant.name, role: m.role })),
        };
      },
    });
  };
}
