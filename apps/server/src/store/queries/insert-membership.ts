import type { Role } from '@automateiq/contracts';
import type { Tx } from '../database';

/** Makes the user a member of the tenant with `role`. False when they already are one. */
export async function insertMembership(tx: Tx, args: { tenantId: string; userId: string; role: Role }): Promise<boolean> {
  const { rowCount } = await tx.query(
    'INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, user_id) DO NOTHING',
    [args.tenantId, args.userId, args.role],
  );
  return rowCount === 1;
}
