import type { Tx } from '../database';

/** Removes the user from the tenant. False when they were no member. */
export async function deleteMembership(tx: Tx, args: { tenantId: string; userId: string }): Promise<boolean> {
  const { rowCount } = await tx.query('DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2', [
    args.tenantId,
    args.userId,
  ]);
  return rowCount === 1;
}
