import { members as contract, Role, ROLE_PERMISSIONS } from '@automateiq/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { writeAudit } from '../../security/audit';
import type { Tx } from '../../store/database';
import { deleteMembership } from '../../store/queries/delete-membership';
import { getMember, type MemberRecord } from '../../store/queries/get-member';
import { insertMembership } from '../../store/queries/insert-membership';
import { listMembers } from '../../store/queries/list-members';
import { lockTenantOwners } from '../../store/queries/lock-tenant-owners';
import { updateMemberRole } from '../../store/queries/update-member-role';
import { findOrCreateUser } from '../../tenancy/find-or-create-user';
import type { ApiDeps } from '../api-deps';
import { ApiError, notFound } from '../api-error';
import { decodeCursor, pageOf } from '../cursor';
import { actorOf, principalOf, tenantOf } from '../request-context';
import { routeOptions } from '../route-options';

/**
 * Members: who belongs to the tenant, with which role. Only an owner makes, changes or removes an
 * owner, and the tenant keeps at least one. An API key acts as an owner only when its scopes hold
 * every permission of an owner.
 */
export function memberRoutes(deps: ApiDeps): FastifyPluginAsync {
  return async (root) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const { db } = deps;

    app.route({
      ...routeOptions(contract.listMembers),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { limit, cursor } = request.query;
        const after = decodeCursor(cursor, 'uuid');
        const rows = await db.withTenant(tenant.id, (tx) => listMembers(tx, { tenantId: tenant.id, limit: limit + 1, after }));
        const page = pageOf(rows, limit, (row) => row.userId);
        return { items: page.items.map(memberJson), nextCursor: page.nextCursor };
      },
    });

    app.route({
      ...routeOptions(contract.addMember),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const { email, role, password } = request.body;
        if (role === Role.owner) requireOwner(request, 'make someone an owner');
        // Users are global: finding or creating one and the membership commit together.
        const added = await db.withSystem('add a member: the user may be new', async (tx) => {
          const { user, created, inviteToken } = await findOrCreateUser(tx, { email, password });
          if (!(await insertMembership(tx, { tenantId: tenant.id, userId: user.id, role })))
            throw new ApiError('AIQ_ALREADY_MEMBER', `${email} is a member of this tenant already`, {
              errors: [{ path: 'body.email', message: 'already a member' }],
            });
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'member.add',
            target: { type: 'user', id: user.id },
            details: { email: user.email, role, newUser: created, invited: inviteToken !== undefined },
          });
          const member = await getMember(tx, { tenantId: tenant.id, userId: user.id });
          if (!member) throw new Error(`membership of ${user.id} vanished after its creation`);
          return { member, inviteToken };
        });
        deps.authenticator.forgetUser(added.member.userId);
        return reply
          .code(201)
          .send({ ...memberJson(added.member), ...(added.inviteToken === undefined ? {} : { inviteToken: added.inviteToken }) });
      },
    });

    app.route({
      ...routeOptions(contract.updateMember),
      handler: async (request) => {
        const tenant = tenantOf(request);
        const { userId } = request.params;
        const { role } = request.body;
        const updated = await db.withTenant(tenant.id, async (tx) => {
          const { member, owners } = await lockMember(tx, tenant.id, userId);
          if (member.role === role) return member;
          if (role === Role.owner) requireOwner(request, 'make someone an owner');
          if (member.role === Role.owner) {
            requireOwner(request, "change an owner's role");
            keepAnOwner(owners, userId, 'demoted');
          }
          await updateMemberRole(tx, { tenantId: tenant.id, userId, role });
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'member.role.change',
            target: { type: 'user', id: userId },
            details: { email: member.email, from: member.role, to: role },
          });
          return { ...member, role };
        });
        deps.authenticator.forgetUser(userId);
        return memberJson(updated);
      },
    });

    app.route({
      ...routeOptions(contract.removeMember),
      handler: async (request, reply) => {
        const tenant = tenantOf(request);
        const { userId } = request.params;
        await db.withTenant(tenant.id, async (tx) => {
          const { member, owners } = await lockMember(tx, tenant.id, userId);
          if (member.role === Role.owner) {
            requireOwner(request, 'remove an owner');
            keepAnOwner(owners, userId, 'removed');
          }
          await deleteMembership(tx, { tenantId: tenant.id, userId });
          await writeAudit(tx, tenant.id, {
            ...actorOf(request),
            action: 'member.remove',
            target: { type: 'user', id: userId },
            details: { email: member.email, role: member.role },
          });
        });
        deps.authenticator.forgetUser(userId);
        return reply.code(204).send(null);
      },
    });
  };
}

/** The member (locked), with the tenant's owners locked first so that owner changes serialise. */
async function lockMember(tx: Tx, tenantId: string, userId: string): Promise<{ member: MemberRecord; owners: string[] }> {
  const owners = await lockTenantOwners(tx, tenantId);
  const member = await getMember(tx, { tenantId, userId, forUpdate: true });
  if (!member) throw notFound('AIQ_MEMBER_NOT_FOUND', 'member', userId);
  return { member, owners };
}

function keepAnOwner(owners: string[], userId: string, change: 'demoted' | 'removed'): void {
  if (owners.every((owner) => owner === userId))
    throw new ApiError('AIQ_LAST_OWNER', `the tenant's last owner cannot be ${change}: make another member owner first`);
}

/** A user with the role owner, or an API key holding every permission of an owner. */
function actsAsOwner(request: FastifyRequest): boolean {
  const principal = principalOf(request);
  if (principal.kind === 'user') return request.auth.role === Role.owner;
  return [...ROLE_PERMISSIONS.owner].every((permission) => principal.scopes.has(permission));
}

function requireOwner(request: FastifyRequest, what: string): void {
  if (!actsAsOwner(request))
    throw new ApiError('AIQ_FORBIDDEN', `only an owner may ${what}`, { extensions: { role: request.auth.role ?? null } });
}

function memberJson(member: MemberRecord) {
  return {
    userId: member.userId,
    email: member.email,
    name: member.name,
    role: member.role,
    totpEnabled: member.totpEnabled,
    active: member.active,
    createdAt: member.createdAt.toISOString(),
  };
}
