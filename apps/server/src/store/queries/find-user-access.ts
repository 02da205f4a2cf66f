import type { Role } from '@automateiq/contracts';
import type { Tx } from '../database';
import { TENANT_COLUMNS, type TenantRecord } from './get-tenant';

export interface UserAccess {
  id: string;
  email: string;
  platformAdmin: boolean;
  totpEnabled: boolean;
  memberships: { role: Role; tenant: TenantRecord }[];
}

/** A user with every tenant they belong to and their role there. System path: it spans tenants. */
export async function findUserAccess(system: Tx, userId: string): Promise<UserAccess | undefined> {
  const { rows } = await system.query<{
    id: string;
    email: string;
    platformAdmin: boolean;
    totpEnabled: boolean;
    memberships: { role: Role; tenant: TenantRecord & { createdAt: string; updatedAt: string } }[];
  }>(
    `SELECT u.id, u.email, u.platform_admin AS "platformAdmin", u.totp_enabled AS "totpEnabled",
            coalesce((SELECT json_agg(json_build_object('role', m.role, 'tenant', to_json(t)) ORDER BY t.slug)
                        FROM memberships m
                        JOIN LATERAL (SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = m.tenant_id) t ON true
                       WHERE m.user_id = u.id), '[]') AS memberships
       FROM users u WHERE u.id = $1`,
    [userId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    ...row,
    memberships: row.memberships.map((m) => ({
      role: m.role,
      tenant: { ...m.tenant, createdAt: new Date(m.tenant.createdAt), updatedAt: new Date(m.tenant.updatedAt) },
    })),
  };
}
