import type { Tx } from '../database';

export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  userId: string;
  tenantId: string | null;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

/**
 * The refresh token with this hash, locked until the transaction ends so that one use of it wins.
 * System path.
 */
export async function findRefreshToken(system: Tx, tokenHash: Buffer): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await system.query<RefreshTokenRecord>(
    `SELECT id, family_id AS "familyId", user_id AS "userId", tenant_id AS "tenantId", expires_at AS "expiresAt",
            used_at AS "usedAt", revoked_at AS "revokedAt"
       FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  return rows[0];
}
