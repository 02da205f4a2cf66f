import type { Tx } from '../database';
import { MEMBER_COLUMNS, type MemberRecord } from './get-member';

/** The tenant's members by user id, after the cursor's. */
export async function listMembers(
  tx: Tx,
  args: { tenantId: string; limit: number; after?: string | undefined },
): Promise<MemberRecord[]> {
  const { rows } = await tx.query<MemberRecord>(
    `SELECT ${MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.tenant_id = $1 AND ($2::uuid IS NULL OR m.user_id > $2::uuid)
      ORDER BY m.user_id LIMIT $3`,
    [args.tenantId, args.after ?? null, args.limit],
  );
  return rows;
}
