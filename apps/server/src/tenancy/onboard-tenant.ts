import { PERMISSIONS, type Plan } from '@automateiq/contracts';
import { newId } from '../lib/ids';
import { writeAudit, writePlatformAudit } from '../security/audit';
import { issueApiKey } from '../security/issue-api-key';
import type { AuditActor } from '../security/principal';
import type { Database } from '../store/database';
import type { UserRecord } from '../store/queries/find-user-by-email';
import type { TenantRecord } from '../store/queries/get-tenant';
import type { ApiKeyRecord } from '../store/queries/insert-api-key';
import { insertTenant } from '../store/queries/insert-tenant';
import { findOrCreateUser } from './find-or-create-user';

export interface OnboardedTenant {
  tenant: TenantRecord;
  owner: UserRecord;
  apiKey: ApiKeyRecord & { key: string };
  inviteToken?: string;
}

export class SlugTakenError extends Error {
  override name = 'SlugTakenError';
}

/**
 * Onboards a tenant in one transaction: the tenant on its plan, its owner (an existing user joins;
 * a new one gets the password given or an invite token), and a first API key with every scope.
 * System path: the tenant does not exist yet.
 */
export async function onboardTenant(
  db: Database,
  args: {
    name: string;
    slug: string;
    ownerEmail: string;
    ownerPassword?: string | undefined;
    plan?: Plan | undefined;
    actor: AuditActor;
    ip?: string | null;
  },
): Promise<OnboardedTenant> {
  return db.withSystem('onboard a tenant', async (tx) => {
    const taken = await tx.query('SELECT 1 FROM tenants WHERE slug = $1', [args.slug]);
    if (taken.rowCount) throw new SlugTakenError(`a tenant with the slug "${args.slug}" exists`);
    const tenant = await insertTenant(tx, { id: newId(), slug: args.slug, name: args.name, plan: args.plan }).catch(
      (error: unknown) => {
        if ((error as { code?: string }).code === '23505')
          throw new SlugTakenError(`a tenant with the slug "${args.slug}" exists`, { cause: error });
        throw error;
      },
    );
    const { user: owner, inviteToken } = await findOrCreateUser(tx, {
      email: args.ownerEmail,
      password: args.ownerPassword,
      renewInvite: true,
    });
    await tx.query("INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')", [tenant.id, owner.id]);
    const apiKey = await issueApiKey(tx, {
      tenantId: tenant.id,
      name: 'onboarding key',
      scopes: PERMISSIONS,
      createdBy: null,
    });
    const audit = { actor: args.actor, ip: args.ip ?? null };
    await writeAudit(tx, tenant.id, {
      ...audit,
      action: 'tenant.create',
      target: { type: 'tenant', id: tenant.id },
      details: { slug: tenant.slug, plan: tenant.plan, owner: owner.email },
    });
    await writeAudit(tx, tenant.id, { ...audit, action: 'member.add', target: { type: 'user', id: owner.id }, details: { role: 'owner' } });
    await writeAudit(tx, tenant.id, { ...audit, action: 'api-key.create', target: { type: 'api-key', id: apiKey.id }, details: { name: apiKey.name } });
    await writePlatformAudit(tx, { ...audit, action: 'tenant.create', target: { type: 'tenant', id: tenant.id }, details: { slug: tenant.slug } });
    return { tenant, owner, apiKey, ...(inviteToken ? { inviteToken } : {}) };
  });
}
