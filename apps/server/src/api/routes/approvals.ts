import { approvalEvent, DEFAULT_APPROVER_ROLES } from '@automateiq/connectors';
import { runs as contract } from '@automateiq/contracts';
import { graphOfScope } from '@automateiq/core';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writeAudit } from '../../security/audit';
import { getRun } from '../../store/queries/get-run';
import { loadRunsSteps } from '../../store/queries/load-runs-steps';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { actorOf, tenantOf } from '../request-context';
import { routeOptions } from '../route-options';

/**
 * `POST /v1/runs/:id/approvals/:nodeId`: a member decides a waiting `flow.approval` step. Only people
 * decide (not API keys), and only with a role the step permits (its `roles`, default owner and admin).
 * The decision, who and when become the step's output, it leaves by `approved` or `rejected`, and the
 * decision is audited (`run.approval`).
 */
export function approvalRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db, engine } = deps;
    app.route({
      ...routeOptions(contract.decideApproval),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const { id: runId, nodeId } = request.params;
        const { principal, role } = request.auth;
        const found = await db.withTenant(tenant.id, async (tx) => {
          const run = await getRun(tx, { tenantId: tenant.id, runId });
          if (!run) return undefined;
          const steps = (await loadRunsSteps(tx, { tenantId: tenant.id, runIds: [runId] })).get(runId) ?? [];
          const workflow = await engine.workflows.get({ tenantId: tenant.id, workflowId: run.workflowId, version: run.version }, tx);
          // The node in the graph of the scope its step runs in (a forEach item's, or the top level).
          const step = steps.find((s) => s.nodeId === nodeId && s.status === 'waiting') ?? steps.find((s) => s.nodeId === nodeId);
          return { steps, node: graphOfScope(workflow.compiled, step?.scope ?? '').nodes.get(nodeId) };
        });
        if (!found) throw notFound('AIQ_RUN_NOT_FOUND', 'run', runId);
        if (found.node?.type !== 'flow.approval')
          throw new ApiError('AIQ_APPROVAL_NOT_FOUND', `run ${runId} has no approval step ${nodeId}`);
        if (principal?.kind !== 'user' || role === undefined)
          throw new ApiError('AIQ_FORBIDDEN', 'approvals are decided by members, not by API keys');
        const roles = (found.node.params?.roles as readonly string[] | undefined) ?? DEFAULT_APPROVER_ROLES;
        if (!roles.includes(role))
          throw new ApiError('AIQ_FORBIDDEN', `the step ${nodeId} is decided by the roles ${roles.join(', ')}, not ${role}`, {
            extensions: { roles, role },
          });
        if (!found.steps.some((s) => s.nodeId === nodeId && s.status === 'waiting'))
          throw new ApiError('AIQ_APPROVAL_CLOSED', `the step ${nodeId} of run ${runId} is not waiting for a decision`);
        const { decision, comment } = request.body;
        const answer = {
          decision,
          by: { userId: principal.userId, email: principal.email },
          at: new Date().toISOString(),
          ...(comment === undefined ? {} : { comment }),
        };
        const result = await engine.deliverRunEvent({
          tenantId: tenant.id,
          runId,
          name: approvalEvent(nodeId),
          payload: answer,
          port: decision === 'approve' ? 'approved' : 'rejected',
          onDelivered: (tx) =>
            writeAudit(tx, tenant.id, {
              ...actorOf(request),
              action: 'run.approval',
              target: { type: 'run', id: runId },
              details: { nodeId, decision, ...(comment === undefined ? {} : { comment }) },
            }),
        });
        // Decided by someone else meanwhile, or the run ended: nothing was taken.
        if (result.kind !== 'delivered')
          throw new ApiError('AIQ_APPROVAL_CLOSED', `the step ${nodeId} of run ${runId} is not waiting for a decision`);
        return reply.code(202).send({ runId, nodeId, ...answer });
      },
    });
  };
}
