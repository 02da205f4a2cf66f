import type { Tx } from '../database';

/** The ids of the tenants a user belongs to. System path: it spans tenants. */
export async function listUserTenantIds(system: Tx, userId: string): Promise<string[]> {
  const { rows } = await system.query<{ tenantId: string }>(
    'SELECT tenant_id AS "tenantId" FROM memberships WHERE user_id = $1 ORDER BY tenant_id',
    [userId],
  );
  return rows.map((row) => row.tenantId);
}
