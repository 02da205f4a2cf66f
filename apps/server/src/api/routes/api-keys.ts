import { members as contract, type Permission, PERMISSIONS, ROLE_PERMISSIONS } from '@automateiq/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writeAudit } from '../../security/audit';
import { issueApiKey } from '../../security/issue-api-key';
import { listApiKeys } from '../../store/queries/list-api-keys';
import { revokeApiKey } from '../../store/queries/revoke-api-key';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { decodeCursor, pageOf } from '../cursor';
import { actorOf, principalOf, tenantOf } from '../request-context';
import { apiKeyJson } from '../resource-json';
import { routeOptions } from '../route-options';

/**
 * The tenant's API keys: listing (never the keys), creating (the key shown once) and revoking. A key
 * grants at most what its creator holds: a user's role, or the calling key's own scopes.
 */
export function apiKeyRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    app.route({
      ...routeOptions(contract.listApiKeys),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor } = request.query;
        const after = decodeCursor(cursor, 'uuid');
        const rows = await db.withTenant(tenant.id, (tx) => listApiKeys(tx, { tenantId: tenant.id, limit: limit + 1, after }));
        const page = pageOf(rows, limit, (row) => row.id);
        return { items: page.items.map(apiKeyJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.createApiKey),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const { name, scopes: asked, expiresAt: expiry } = request.body;
        const held = heldPermissions(request);
        const beyond = asked?.filter((scope) => !held.has(scope)) ?? [];
        if (beyond.length > 0)
          throw new ApiError('AIQ_FORBIDDEN', `a key cannot grant what its creator lacks: ${beyond.join(', ')}`, {
            errors: (asked ?? []).flatMap((scope, i) =>
              held.has(scope) ? [] : [{ path: `body.scopes[${i}]`, message: 'you do not hold this permission' }],
            ),
            extensions: { scopes: beyond },
          });
        // Canonical order, each once.
        const scopes = PERMISSIONS.filter((permission) => (asked ? asked.includes(permission) : held.has(permission)));
        const expiresAt = expiry === undefined ? null : new Date(expiry);
        if (expiresAt !== null && expiresAt.getTime() <= Date.now())
          throw new ApiError('AIQ_VALIDATION', 'body.expiresAt: must be in the future', {
            errors: [{ path: 'body.expiresAt', message: 'must be in the future' }],
          });
        const principal = principalOf(request);
        const created = await db.withTenant(tenant.id, async (tx) => {
          const key = await issueApiKey(tx, {
            tenantId: tenant.id,
            name,
            scopes,
            createdBy: principal.kind === 'user' ? principal.userId : null,
            expiresAt,
          });
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'api-key.create',
            target: { type: 'api-key', id: key.id },
            details: { name, scopes, expiresAt: expiresAt?.toISOString() ?? null },
          });
          return key;
        });
        return reply.code(201).send({ ...apiKeyJson(created), key: created.key });
      },
    });

    app.route({
      ...routeOptions(contract.revokeApiKey),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const keyId = request.params.id;
        await db.withTenant(tenant.id, async (tx) => {
          const revoked = await revokeApiKey(tx, { tenantId: tenant.id, keyId });
          if (!revoked) throw notFound('AIQ_API_KEY_NOT_FOUND', 'API key', keyId);
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'api-key.revoke',
            target: { type: 'api-key', id: keyId },
            details: { name: revoked.name },
          });
        });
        deps.authenticator.forgetApiKeys();
        return reply.code(204).send(null);
      },
    });
  };
}

/** What the caller may grant: its role's permissions, or its own scopes when it is a key. */
function heldPermissions(request: FastifyRequest): ReadonlySet<Permission> {
  const principal = principalOf(request);
  if (principal.kind === 'apiKey') return principal.scopes;
  const role = request.auth.role;
  if (role === undefined) throw new Error(`route ${request.routeOptions.url ?? request.url} has no role: is its access 'tenant'?`);
  return ROLE_PERMISSIONS[role];
}
