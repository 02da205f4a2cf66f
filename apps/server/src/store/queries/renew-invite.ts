import type { Tx } from '../database';

/**
 * Gives a user who has not set a password yet a new invite token hash and expiry (the previous token
 * stops working). False when the user has a password. System path.
 */
export async function renewInvite(
  system: Tx,
  args: { userId: string; inviteTokenHash: Buffer; inviteExpiresAt: Date },
): Promise<boolean> {
  const { rowCount } = await system.query(
    `UPDATE users SET invite_token_hash = $2, invite_expires_at = $3, updated_at = now()
      WHERE id = $1 AND password_hash IS NULL`,
    [args.userId, args.inviteTokenHash, args.inviteExpiresAt],
  );
  return rowCount === 1;
}
