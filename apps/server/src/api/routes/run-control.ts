import { assertNever } from '@automateiq/core';
import { runs as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writeAudit } from '../../security/audit';
import type { AuditActor } from '../../security/principal';
import { getRun } from '../../store/queries/get-run';
import { getWorkflow } from '../../store/queries/get-workflow';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { actorOf, tenantOf } from '../request-context';
import { routeOptions } from '../route-options';
import { jsonBytes, payloadTooLarge } from '../quota-errors';
import { runQuotaError } from '../run-quota';

/** Run control beyond cancel: retry from the failed steps, events for waiting steps. */
export function runControlRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db, engine } = deps;

    app.route({
      ...routeOptions(contract.retryRun),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const runId = request.params.id;
        // A run of a deleted workflow is history: it is not run again.
        const live = await db.withTenant(tenant.id, async (tx) => {
          const run = await getRun(tx, { tenantId: tenant.id, runId });
          return run && { run, workflow: await getWorkflow(tx, { tenantId: tenant.id, workflowId: run.workflowId }) };
        });
        if (!live) throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        if (!live.workflow) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', live.run.workflowId);
        const actor = actorOf(request);
        const result = await engine.retryRun({
          tenantId: tenant.id,
          runId,
          runsPerDay: { limit: tenant.quotas.runsPerDay },
          audit: (started) => ({
            ...actor,
            action: 'run.retry',
            target: { type: 'run', id: runId },
            details: { runId: started.runId, workflowId: live.run.workflowId, version: live.run.version },
          }),
        }).catch((error: unknown) => {
          throw runQuotaError(error);
        });
        switch (result.kind) {
          case 'started':
            return reply.code(202).send({ id: result.runId, status: result.status, retryOf: runId });
          case 'notFound':
            throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
          case 'notRetryable':
            throw new ApiError(
              'AIQ_RUN_NOT_RETRYABLE',
              `run ${runId} is ${result.status}: only a failed or cancelled run can be retried`,
              { extensions: { runStatus: result.status } },
            );
          default:
            return assertNever(result, 'retry result');
        }
      },
    });

    app.route({
      ...routeOptions(contract.sendRunEvent),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const runId = request.params.id;
        const { name, payload } = request.body;
        const limit = tenant.quotas.maxPayloadBytes;
        const bytes = jsonBytes(payload);
        if (limit !== null && bytes > limit) throw payloadTooLarge('body.payload', bytes, limit);
        const actor = actorOf(request);
        const result = await deliverEvent(deps, { tenantId: tenant.id, runId, name, payload, audit: actor });
        return reply.code(202).send(result);
      },
    });
  };
}

/**
 * Delivers an event to a run of the tenant and audits it (`run.event`): the answer of
 * `POST /v1/runs/:id/events` and of a run's resume URL. 404 for no such run, 409 for a finished one.
 */
export async function deliverEvent(
  deps: ApiDeps,
  args: { tenantId: string; runId: string; name: string; payload: unknown; audit: { actor: AuditActor; ip: string } },
): Promise<{ id: string; runId: string; delivered: boolean; nodeId: string | null }> {
  const { tenantId, runId, name } = args;
  const result = await deps.engine.deliverRunEvent({
    tenantId,
    runId,
    name,
    payload: args.payload ?? null,
    onDelivered: (tx, done) =>
      writeAudit(tx, tenantId, {
        ...args.audit,
        action: 'run.event',
        target: { type: 'run', id: runId },
        details: { name, eventId: done.eventId, delivered: done.kind === 'delivered', ...(done.kind === 'delivered' ? { nodeId: done.nodeId } : {}) },
      }),
  });
  switch (result.kind) {
    case 'notFound':
      throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
    case 'finished':
      throw new ApiError('AIQ_RUN_FINISHED', `run ${runId} is ${result.status}: it takes no events`, {
        extensions: { runStatus: result.status },
      });
    case 'delivered':
      return { id: result.eventId, runId, delivered: true, nodeId: result.nodeId };
    case 'kept':
      return { id: result.eventId, runId, delivered: false, nodeId: null };
    default:
      return assertNever(result, 'event delivery');
  }
}
