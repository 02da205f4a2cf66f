import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../api-deps';
import { apiKeyRoutes } from './api-keys';
import { auditRoutes } from './audit';
import { authRoutes } from './auth';
import { connectorRoutes } from './connectors';
import { webhookRoutes } from './webhooks';
import { resumeRoutes } from './resume';
import { approvalRoutes } from './approvals';
import { credentialRoutes } from './credentials';
import { meRoutes } from './me';
import { memberRoutes } from './members';
import { runControlRoutes } from './run-control';
import { runLogRoutes } from './run-logs';
import { runStreamRoutes } from './run-stream';
import { runRoutes } from './runs';
import { tenantRoutes } from './tenants';
import { usageRoutes } from './usage';
import { workflowRoutes } from './workflows';

/** Every `/v1` resource, one plugin each. */
export function apiRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (app) => {
    await app.register(meRoutes(deps));
    await app.register(tenantRoutes(deps));
    await app.register(workflowRoutes(deps));
    await app.register(runRoutes(deps));
    await app.register(authRoutes(deps));
    await app.register(memberRoutes(deps));
    await app.register(apiKeyRoutes(deps));
    await app.register(runControlRoutes(deps));
    await app.register(runLogRoutes(deps));
    await app.register(runStreamRoutes(deps));
    await app.register(auditRoutes(deps));
    await app.register(usageRoutes(deps));
    await app.register(connectorRoutes(deps));
    await app.register(credentialRoutes(deps));
    await app.register(webhookRoutes(deps));
    await app.register(resumeRoutes(deps));
    await app.register(approvalRoutes(deps));
  };
}
