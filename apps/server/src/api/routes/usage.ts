import { audit as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { getUsage } from '../../store/queries/get-usage';
import type { ApiDeps } from '../api-deps';
import { tenantOf } from '../request-context';
import { routeOptions } from '../route-options';

/** The tenant's usage against its quotas. */
export function usageRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db, limiter } = deps;

    app.route({
      ...routeOptions(contract.getUsage),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const usage = await db.withTenant(tenant.id, (tx) => getUsage(tx, tenant.id));
        return {
          ...usage,
          // This process's count (rate-limiter.ts): with several API processes, each counts its share.
          apiRequestsThisMinute: limiter.count(`tenant:${tenant.id}`),
          quotas: { ...tenant.quotas },
        };
      },
    });
  };
}
