import type { Tx } from '../database';
import { USER_COLUMNS, type UserRecord } from './find-user-by-email';

/**
 * Sets the password of the user invited with this token (by its hash) and uses the invite up.
 * Undefined when no unexpired invite has that hash. System path.
 */
export async function acceptInvite(
  system: Tx,
  args: { inviteTokenHash: Buffer; passwordHash: string },
): Promise<UserRecord | undefined> {
  const { rows } = await system.query<UserRecord>(
    `UPDATE users
        SET password_hash = $2, invite_token_hash = NULL, invite_expires_at = NULL,
            failed_logins = 0, locked_until = NULL, updated_at = now()
      WHERE invite_token_hash = $1 AND invite_expires_at > now()
      RETURNING ${USER_COLUMNS}`,
    [args.inviteTokenHash, args.passwordHash],
  );
  return rows[0];
}
