import type { Tx } from '../database';

/** True when the session (refresh token family) was revoked: logged out, or its token was reused. System path. */
export async function isSessionRevoked(system: Tx, familyId: string): Promise<boolean> {
  const { rows } = await system.query<{ revoked: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL) AS revoked',
    [familyId],
  );
  return rows[0]?.revoked ?? false;
}
