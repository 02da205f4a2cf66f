import type { Role } from '@automateiq/contracts';
import type { Tx } from '../database';

/** Changes a member's role. False when the user is no member of the tenant. */
export async function updateMemberRole(tx: Tx, args: { tenantId: string; userId: string; role: Role }): Promise<boolean> {
  const { rowCount } = await tx.query(
    'UPDATE memberships SET role = $3, updated_at = now() WHERE tenant_id = $1 AND user_id = $2',
    [args.tenantId, args.userId, args.role],
  );
  return rowCount === 1;
}
