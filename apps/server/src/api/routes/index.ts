import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { meRoutes } from './me';
import { runRoutes } from './runs';
import { tenantRoutes } from './tenants';
import { workflowRoutes } from './workflows';

/** Every `/v1` resource, one plugin each. */
export function apiRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(meRoutes(deps));
    await app.register(tenantRoutes(deps));
    await app.register(workflowRoutes(deps));
    await app.register(runRoutes(deps));
  };
}
