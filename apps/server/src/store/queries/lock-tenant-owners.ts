import type { Tx } from '../database';

/**
 * The tenant's owners, their memberships locked until the transaction ends: changes to owners
 * serialise, so two owners demoting each other at once cannot leave the tenant without one.
 */
export async function lockTenantOwners(tx: Tx, tenantId: string): Promise<string[]> {
  const { rows } = await tx.query<{ userId: string }>(
    `SELECT user_id AS "userId" FROM memberships WHERE tenant_id = $1 AND role = 'owner' ORDER BY user_id FOR UPDATE`,
    [tenantId],
  );
  return rows.map((row) => row.userId);
}
