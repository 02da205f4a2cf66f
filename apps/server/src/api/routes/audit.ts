import { audit as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type AuditRecordRow, listAudit } from '../../store/queries/list-audit';
import type { ApiDeps } from '../api-deps';
import { decodeCursor, pageOf } from '../cursor';
import { tenantOf } from '../request-context';
import { routeOptions } from '../route-options';

/** The tenant's audit trail, newest first. */
export function auditRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    app.route({
      ...routeOptions(contract.listAudit),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor, action } = request.query;
        const before = decodeCursor(cursor, 'sequence');
        const rows = await db.withTenant(tenant.id, (tx) =>
          listAudit(tx, { tenantId: tenant.id, limit: limit + 1, before, action }),
        );
        const page = pageOf(rows, limit, (row) => row.id);
        return { items: page.items.map(auditJson), nextCursor: page.nextCursor };
      },
    });
  };
}

function auditJson(row: AuditRecordRow) {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    action: row.action,
    target: { type: row.targetType, id: row.targetId },
    ip: row.ip,
    details: row.details as Record<string, never>,
  };
}
