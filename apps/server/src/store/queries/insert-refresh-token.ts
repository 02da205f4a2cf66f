import type { Tx } from '../database';

/** Stores a refresh token of a session family by its hash. System path: sessions are global. */
export async function insertRefreshToken(
  system: Tx,
  token: { id: string; familyId: string; userId: string; tokenHash: Buffer; expiresAt: Date; tenantId?: string | null },
): Promise<void> {
  await system.query(
    `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, tenant_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [token.id, token.familyId, token.userId, token.tokenHash, token.tenantId ?? null, token.expiresAt],
  );
}
