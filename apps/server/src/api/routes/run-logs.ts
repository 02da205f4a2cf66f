import { runs as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { getRun } from '../../store/queries/get-run';
import { listStepTimeline } from '../../store/queries/list-step-timeline';
import type { ApiDeps } from '../api-deps';
import { notFound } from '../api-error';
import { tenantOf } from '../request-context';
import { routeOptions } from '../route-options';
import { runLog } from '../run-log';

/** A run's log, told from its steps. */
export function runLogRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    app.route({
      ...routeOptions(contract.getRunLogs),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const runId = request.params.id;
        const found = await db.withTenant(tenant.id, async (tx) => {
          const run = await getRun(tx, { tenantId: tenant.id, runId });
          return run && { run, steps: await listStepTimeline(tx, { tenantId: tenant.id, runId }) };
        });
        if (!found) throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        return { items: runLog(found.run, found.steps) };
      },
    });
  };
}
