import { runs as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../api-deps';
import { notFound } from '../api-error';
import { payloadTooLarge, jsonBytes } from '../quota-errors';
import { routeOptions } from '../route-options';
import { deliverEvent } from './run-control';

/**
 * `POST /resume/:tenantId/:runId/:token`: an outside system delivers an event to one run, with no
 * account: the token (see `RunResumeTokens`) is the credential. A wrong token, an unknown run and a
 * suspended tenant all answer 404.
 */
export function resumeRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.route({
      ...routeOptions(contract.resumeRun),
      handler: async (request, reply) => {
        const { tenantId, runId, token } = request.params;
        const tenant = await deps.authenticator.tenant(tenantId);
        if (!tenant || tenant.status !== 'active' || !(await deps.resumeTokens.verify(tenantId, runId, token)))
          throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        const { name, payload } = request.body;
        const limit = tenant.quotas.maxPayloadBytes;
        const bytes = jsonBytes(payload);
        if (limit !== null && bytes > limit) throw payloadTooLarge('body.payload', bytes, limit);
        const answer = await deliverEvent(deps, {
          tenantId,
          runId,
          name,
          payload,
          audit: { actor: { type: 'anonymous', id: null, label: 'resume URL' }, ip: request.ip },
        });
        return reply.code(202).send(answer);
      },
    });
  };
}
