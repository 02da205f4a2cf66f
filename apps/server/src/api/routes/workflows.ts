import { isDeepStrictEqual } from 'node:util';
import { workflows as contract } from '@automateiq/contracts';
import { validateDefinition, type WorkflowDefinition } from '@automateiq/core';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { newId } from '../../lib/ids';
import { writeAudit } from '../../security/audit';
import type { Tx } from '../../store/database';
import { countWorkflows } from '../../store/queries/count-workflows';
import { getWorkflow, type WorkflowRecord } from '../../store/queries/get-workflow';
import { insertWorkflow } from '../../store/queries/insert-workflow';
import { insertWorkflowVersion } from '../../store/queries/insert-workflow-version';
import { listWorkflowVersions, type WorkflowVersionRecord } from '../../store/queries/list-workflow-versions';
import { listWorkflows } from '../../store/queries/list-workflows';
import { updateWorkflowState } from '../../store/queries/update-workflow-state';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { decodeCursor, pageOf } from '../cursor';
import { isUniqueViolation } from '../../store/pg-errors';
import { syncTriggers, WebhookPathTakenError } from '../../triggers/sync-triggers';
import { jsonBytes, payloadTooLarge } from '../quota-errors';
import { actorOf, tenantOf } from '../request-context';
import { routeOptions } from '../route-options';

/** Workflows: CRUD, immutable versions, activation, validation without saving. */
export function workflowRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    /** The definition checked by the core's validator; its problems name `body.definition.<path>`. */
    function checkDefinition(raw: unknown): WorkflowDefinition {
      const result = validateDefinition(raw, deps.connectors);
      if (result.ok) return result.definition;
      const errors = result.errors.map((e) => ({
        path: e.path === '' ? 'body.definition' : `body.definition.${e.path}`.replace('.definition.[', '.definition['),
        message: e.message,
      }));
      throw new ApiError('AIQ_WORKFLOW_INVALID', `${errors[0]?.path}: ${errors[0]?.message}`, { errors });
    }

    app.route({
      ...routeOptions(contract.listWorkflows),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor, active, name } = request.query;
        const rows = await db.withTenant(tenant.id, (tx) =>
          listWorkflows(tx, {
            tenantId: tenant.id,
            limit: limit + 1,
            after: decodeCursor(cursor, 'uuid'),
            active: active === undefined ? undefined : active === 'true',
            name,
          }),
        );
        const page = pageOf(rows, limit, (row) => row.id);
        return { items: page.items.map(summaryJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.createWorkflow),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const definition = checkDefinition(request.body.definition);
        const limit = tenant.quotas.maxPayloadBytes;
        const bytes = jsonBytes(definition);
        if (limit !== null && bytes > limit) throw payloadTooLarge('body.definition', bytes, limit);
        const id = newId();
        const created = await db.withTenant(tenant.id, async (tx) => {
          await lockTenant(tx, tenant.id);
          const max = tenant.quotas.maxWorkflows;
          if (max !== null && (await countWorkflows(tx, tenant.id)) >= max) {
            throw new ApiError('AIQ_PLAN_LIMIT_REACHED', `the tenant keeps ${max} workflows, its plan's maxWorkflows`, {
              extensions: { quota: 'maxWorkflows', limit: max },
            });
          }
          await insertWorkflow(tx, { tenantId: tenant.id, id, definition }).catch(nameTaken(definition.name));
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'workflow.create',
            target: { type: 'workflow', id },
            details: { name: definition.name, version: 1 },
          });
          return getWorkflow(tx, { tenantId: tenant.id, workflowId: id });
        });
        if (!created) throw new Error(`workflow ${id} vanished after its creation`);
        return reply.code(201).send(workflowJson(created));
      },
    });

    app.route({
      ...routeOptions(contract.validateWorkflow),
      handler: async (request) => {
        const result = validateDefinition(request.body.definition, deps.connectors);
        return result.ok ? { valid: true, errors: [] } : { valid: false, errors: result.errors.map(({ path, message }) => ({ path, message })) };
      },
    });

    app.route({
      ...routeOptions(contract.getWorkflow),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const found = await db.withTenant(tenant.id, (tx) => getWorkflow(tx, { tenantId: tenant.id, workflowId: request.params.id }));
        if (!found) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', request.params.id);
        return workflowJson(found);
      },
    });

    app.route({
      ...routeOptions(contract.updateWorkflow),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const workflowId = request.params.id;
        const definition = checkDefinition(request.body.definition);
        const limit = tenant.quotas.maxPayloadBytes;
        const bytes = jsonBytes(definition);
        if (limit !== null && bytes > limit) throw payloadTooLarge('body.definition', bytes, limit);
        const updated = await db.withTenant(tenant.id, async (tx) => {
          const current = await getWorkflow(tx, { tenantId: tenant.id, workflowId, forUpdate: true });
          if (!current) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          if (isDeepStrictEqual(current.definition, JSON.parse(JSON.stringify(definition)))) return current;
          const version = await insertWorkflowVersion(tx, { tenantId: tenant.id, workflowId, definition }).catch(
            nameTaken(definition.name),
          );
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'workflow.update',
            target: { type: 'workflow', id: workflowId },
            details: { name: definition.name, version },
          });
          // An active workflow's triggers become those of its new version.
          if (current.active) await syncTriggers(tx, { tenantId: tenant.id, workflowId }).catch(pathTaken('body.definition'));
          return getWorkflow(tx, { tenantId: tenant.id, workflowId });
        });
        deps.webhooks.forget();
        if (!updated) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
        return workflowJson(updated);
      },
    });

    app.route({
      ...routeOptions(contract.deleteWorkflow),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const workflowId = request.params.id;
        await db.withTenant(tenant.id, async (tx) => {
          if (!(await updateWorkflowState(tx, { tenantId: tenant.id, workflowId, change: 'delete' })))
            throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          await syncTriggers(tx, { tenantId: tenant.id, workflowId });
          await writeAudit(tx, tenant.id, { ...actorOf(request), action: 'workflow.delete', target: { type: 'workflow', id: workflowId } });
        });
        deps.webhooks.forget();
        return reply.code(204).send(null);
      },
    });

    for (const [route, change] of [
      [contract.activateWorkflow, 'activate'],
      [contract.deactivateWorkflow, 'deactivate'],
    ] as const) {
      app.route({
        ...routeOptions(route),
        handler: async (request) => {
          const tenant = tenantOf(request);
          const workflowId = request.params.id;
          const found = await db.withTenant(tenant.id, async (tx) => {
            if (!(await updateWorkflowState(tx, { tenantId: tenant.id, workflowId, change })))
              throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
            await syncTriggers(tx, { tenantId: tenant.id, workflowId }).catch(pathTaken('definition'));
            await writeAudit(tx, tenant.id, { ...actorOf(request), action: `workflow.${change}`, target: { type: 'workflow', id: workflowId } });
            return getWorkflow(tx, { tenantId: tenant.id, workflowId });
          });
          deps.webhooks.forget();
          if (!found) throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          return workflowJson(found);
        },
      });
    }

    app.route({
      ...routeOptions(contract.listVersions),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor } = request.query;
        const workflowId = request.params.id;
        const rows = await db.withTenant(tenant.id, async (tx) => {
          if (!(await getWorkflow(tx, { tenantId: tenant.id, workflowId })))
            throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          return listWorkflowVersions(tx, { tenantId: tenant.id, workflowId, limit: limit + 1, before: decodeCursor(cursor, 'integer') });
        });
        const page = pageOf(rows, limit, (row) => row.version);
        return { items: page.items.map(versionJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.getVersion),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { id: workflowId, version } = request.params;
        const rows = await db.withTenant(tenant.id, async (tx) => {
          if (!(await getWorkflow(tx, { tenantId: tenant.id, workflowId })))
            throw notFound('AIQ_WORKFLOW_NOT_FOUND', 'workflow', workflowId);
          return listWorkflowVersions(tx, { tenantId: tenant.id, workflowId, limit: 1, version });
        });
        const found = rows[0];
        if (!found) throw notFound('AIQ_VERSION_NOT_FOUND', `version ${version} of workflow`, workflowId);
        return versionJson(found);
      },
    });
  };
}

/** Serialises workflow creation in a tenant, so the maxWorkflows count holds under concurrency. */
async function lockTenant(tx: Tx, tenantId: string): Promise<void> {
  await tx.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
}

/** A webhook path another workflow holds, as a 409 naming the trigger (under `prefix`). */
function pathTaken(prefix: string) {
  return (error: unknown): never => {
    if (error instanceof WebhookPathTakenError)
      throw new ApiError('AIQ_WEBHOOK_PATH_TAKEN', error.message, {
        errors: [{ path: `${prefix}.triggers[${error.position}].path`, message: `"${error.path}" is taken` }],
      });
    throw error;
  };
}

function nameTaken(name: string) {
  return (error: unknown): never => {
    if (isUniqueViolation(error, 'workflows_live_name'))
      throw new ApiError('AIQ_NAME_TAKEN', `a workflow named "${name}" exists`, {
        errors: [{ path: 'body.definition.name', message: 'another workflow has this name' }],
      });
    throw error;
  };
}

function summaryJson(row: WorkflowRecord) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.version,
    active: row.active,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function workflowJson(row: WorkflowRecord & { definition: WorkflowDefinition }) {
  return { ...summaryJson(row), definition: row.definition as unknown as Record<string, never> };
}

function versionJson(row: WorkflowVersionRecord) {
  return {
    workflowId: row.workflowId,
    version: row.version,
    definition: row.definition as unknown as Record<string, never>,
    createdAt: row.createdAt.toISOString(),
  };
}
