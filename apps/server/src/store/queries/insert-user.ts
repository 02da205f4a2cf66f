import type { Tx } from '../database';
import { USER_COLUMNS, type UserRecord } from './find-user-by-email';

/**
 * Creates a user, with a password hash or an invite token hash; undefined when a user with that e-mail
 * exists (perhaps made a moment ago by a concurrent request). System path.
 */
export async function insertUser(
  system: Tx,
  user: {
    id: string;
    email: string;
    passwordHash: string | null;
    platformAdmin?: boolean;
    inviteTokenHash?: Buffer | null;
    inviteExpiresAt?: Date | null;
  },
): Promise<UserRecord | undefined> {
  const { rows } = await system.query<UserRecord>(
    `INSERT INTO users (id, email, password_hash, platform_admin, invite_token_hash, invite_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [
      user.id,
      user.email,
      user.passwordHash,
      user.platformAdmin ?? false,
      user.inviteTokenHash ?? null,
      user.inviteExpiresAt ?? null,
    ],
  );
  return rows[0];
}
