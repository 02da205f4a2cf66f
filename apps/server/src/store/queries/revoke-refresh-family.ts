import type { Tx } from '../database';

/** Revokes every token of a session family (logout, or a reused token). Returns how many were live. System path. */
export async function revokeRefreshFamily(system: Tx, familyId: string): Promise<number> {
  const { rowCount } = await system.query(
    'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
    [familyId],
  );
  return rowCount ?? 0;
}
