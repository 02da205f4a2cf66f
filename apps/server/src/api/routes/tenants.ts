import { effectiveQuotas, PLAN_QUOTAS, tenants as contract } from '@automateiq/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writeAudit } from '../../security/audit';
import { TENANT_COLUMNS, type TenantRecord } from '../../store/queries/get-tenant';
import { getTenant } from '../../store/queries/get-tenant';
import { updateTenant } from '../../store/queries/update-tenant';
import { onboardTenant, SlugTakenError } from '../../tenancy/onboard-tenant';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { decodeCursor, pageOf } from '../cursor';
import { actorOf, principalOf, tenantOf } from '../request-context';
import { apiKeyJson, tenantJson, userJson } from '../resource-json';
import { routeOptions } from '../route-options';

/** Tenants: onboarding and listing (platform admins), reading and changing plans, quotas, status. */
export function tenantRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    app.route({
      ...routeOptions(contract.createTenant),
      handler: async (request, reply) => {
        const { name, slug, ownerEmail, ownerPassword, plan } = request.body;
        const onboarded = await onboardTenant(db, {
          name,
          slug,
          ownerEmail,
          ownerPassword,
          plan,
          ...actorOf(request),
        }).catch((error: unknown) => {
          if (error instanceof SlugTakenError)
            throw new ApiError('AIQ_SLUG_TAKEN', error.message, { errors: [{ path: 'body.slug', message: 'taken' }] });
          throw error;
        });
        return reply.code(201).send({
          tenant: tenantJson(onboarded.tenant),
          owner: userJson(onboarded.owner),
          apiKey: { ...apiKeyJson(onboarded.apiKey), key: onboarded.apiKey.key },
          ...(onboarded.inviteToken ? { inviteToken: onboarded.inviteToken } : {}),
        });
      },
    });

    app.route({
      ...routeOptions(contract.listTenants),
      handler: async (request) => {
        const { limit, cursor } = request.query;
        const after = decodeCursor(cursor, 'text');
        const { rows } = await db.systemQuery<TenantRecord>(
          'platform admins list tenants',
          `SELECT ${TENANT_COLUMNS} FROM tenants WHERE ($1::text IS NULL OR slug > $1) ORDER BY slug LIMIT $2`,
          [after ?? null, limit + 1],
        );
        const page = pageOf(rows, limit, (row) => row.slug);
        return { items: page.items.map(tenantJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.getTenant),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const found = await db.withTenant(tenant.id, (tx) => getTenant(tx, tenant.id));
        if (!found) throw notFound('AIQ_TENANT_NOT_FOUND', 'tenant', request.params.id);
        return tenantJson(found);
      },
    });

    app.route({
      ...routeOptions(contract.updateTenant),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const principal = principalOf(request);
        const body = request.body;
        const platformAdmin = principal.kind === 'user' && principal.platformAdmin;
        const adminOnly = (['name', 'status', 'plan', 'quotas'] as const).filter((field) => body[field] !== undefined);
        if (!platformAdmin && adminOnly.length > 0)
          throw new ApiError('AIQ_FORBIDDEN', `only a platform admin may change ${adminOnly.join(', ')}`, {
            errors: adminOnly.map((field) => ({ path: `body.${field}`, message: 'platform admins only' })),
          });
        const updated = await db.withTenant(tenant.id, async (tx) => {
          const current = await getTenant(tx, tenant.id);
          if (!current) throw notFound('AIQ_TENANT_NOT_FOUND', 'tenant', tenant.id);
          const plan = body.plan ?? current.plan;
          // A new plan brings its quotas; quotas given override them one by one.
          const quotas =
            body.plan !== undefined || body.quotas !== undefined
              ? { ...(body.plan !== undefined ? PLAN_QUOTAS[body.plan] : effectiveQuotas(current.plan, current.quotas)), ...body.quotas }
              : undefined;
          const next = await updateTenant(tx, {
            tenantId: tenant.id,
            name: body.name,
            status: body.status,
            plan,
            quotas,
            requireMfa: body.requireMfa,
          });
          const action =
            body.status && body.status !== current.status ? (body.status === 'suspended' ? 'tenant.suspend' : 'tenant.resume') : 'tenant.update';
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action,
            target: { type: 'tenant', id: tenant.id },
            details: { changed: Object.keys(body) },
          });
          return next;
        });
        if (!updated) throw notFound('AIQ_TENANT_NOT_FOUND', 'tenant', tenant.id);
        deps.authenticator.forgetTenant(tenant.id);
        deps.webhooks.forget();
        return tenantJson(updated);
      },
    });
  };
}
