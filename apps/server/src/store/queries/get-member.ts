import type { Role } from '@automateiq/contracts';
import type { Tx } from '../database';

export interface MemberRecord {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  totpEnabled: boolean;
  /** False until an invited user has set a password. */
  active: boolean;
  createdAt: Date;
}

export const MEMBER_COLUMNS = `m.user_id AS "userId", u.email, u.name, m.role, u.totp_enabled AS "totpEnabled",
  u.password_hash IS NOT NULL AS active, m.created_at AS "createdAt"`;

/** A member of the tenant with their user's details; `forUpdate` locks the membership. */
export async function getMember(
  tx: Tx,
  args: { tenantId: string; userId: string; forUpdate?: boolean },
): Promise<MemberRecord | undefined> {
  const { rows } = await tx.query<MemberRecord>(
    `SELECT ${MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.tenant_id = $1 AND m.user_id = $2${args.forUpdate ? ' FOR UPDATE OF m' : ''}`,
    [args.tenantId, args.userId],
  );
  return rows[0];
}
