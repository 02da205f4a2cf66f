import { runs as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writeAudit } from '../../security/audit';
import { getRun } from '../../store/queries/get-run';
import { getWorkflow } from '../../store/queries/get-workflow';
import { listRuns } from '../../store/queries/list-runs';
import { getRunWithSteps } from '../../store/queries/get-run-with-steps';
import { WorkflowNotFoundError } from '../../engine/workflow-not-found-error';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { decodeCursor, pageOf } from '../cursor';
import { jsonBytes, payloadTooLarge } from '../quota-errors';
import { actorOf, tenantOf } from '../request-context';
import { routeOptions } from '../route-options';
import { runJson, runSummaryJson } from '../run-json';
import { runQuotaError } from '../run-quota';

/** Runs: start (idempotent), list, read with steps, cancel. */
export function runRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db, engine } = deps;

    app.route({
      ...routeOptions(contract.startRun),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const workflowId = request.params.id;
        const { input, version: wanted } = request.body;
        const limit = tenant.quotas.maxPayloadBytes;
        const bytes = jsonBytes(input);
        if (limit !== null && bytes > limit) throw payloadTooLarge('body.input', bytes, limit);
        // An explicit version is checked first; the latest is read in the start's own transaction.
        if (wanted !== undefined) {
          const workflow = await db.withTenant(tenant.id, (tx) => getWorkflow(tx, { tenantId: tenant.id, workflowId }));
          if (!workflow) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          if (wanted > workflow.version)
            throw new ApiError('AIQ_VERSION_NOT_FOUND', `workflow ${workflowId} has no version ${wanted}`, {
              errors: [{ path: 'body.version', message: `the latest version is ${workflow.version}` }],
            });
        }
        const actor = actorOf(request);
        const started = engine.startRun({
          tenantId: tenant.id,
          workflowId,
          version: wanted ?? 'latest',
          tenantConcurrencyQuota: tenant.quotas.concurrentRuns,
          input: input ?? null,
          trigger: { type: 'api', by: actor.actor.label },
          idempotencyKey: request.headers['idempotency-key'],
          runsPerDay: { limit: tenant.quotas.runsPerDay },
          audit: ({ runId, version }) => ({
            ...actor,
            action: 'run.start',
            target: { type: 'run', id: runId },
            details: { workflowId, version },
          }),
        });
        const { runId, created } = await started.catch((error: unknown) => {
          if (error instanceof WorkflowNotFoundError) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          throw runQuotaError(error);
        });
        const status = created
          ? 'queued'
          : ((await db.withTenant(tenant.id, (tx) => getRun(tx, { tenantId: tenant.id, runId })))?.status ?? 'queued');
        return reply.code(202).send({ id: runId, status, created });
      },
    });

    app.route({
      ...routeOptions(contract.listRuns),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor, workflowId, status } = request.query;
        const rows = await db.withTenant(tenant.id, (tx) =>
          listRuns(tx, { tenantId: tenant.id, limit: limit + 1, before: decodeCursor(cursor, 'uuid'), workflowId, status }),
        );
        const page = pageOf(rows, limit, (row) => row.id);
        return { items: page.items.map(runSummaryJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.getRun),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const runId = request.params.id;
        // The hottest read: one round trip (see getRunWithSteps).
        const found = await getRunWithSteps(db, { tenantId: tenant.id, runId });
        if (!found) throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        return runJson(found.run, found.steps);
      },
    });

    app.route({
      ...routeOptions(contract.cancelRun),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const runId = request.params.id;
        const run = await db.withTenant(tenant.id, (tx) => getRun(tx, { tenantId: tenant.id, runId }));
        if (!run) throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        const cancelled = await engine.cancelRun({ tenantId: tenant.id, runId });
        if (!cancelled) throw new ApiError('AIQ_RUN_FINISHED', `run ${runId} has already finished (${run.status})`);
        await db.withTenant(tenant.id, (tx) =>
          writeAudit(tx, tenant.id, { ...actorOf(request), action: 'run.cancel', target: { type: 'run', id: runId } }),
        );
        return reply.code(202).send({ id: runId, status: 'cancelled' as const });
      },
    });
  };
}
