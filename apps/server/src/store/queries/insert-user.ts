import type { Tx } from '../database';
import { USER_COLUMNS, type UserRecord } from './find-user-by-email';

/** Creates a user, with a password hash or an invite token hash. System path. */
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
): Promise<UserRecord> {
  const { rows } = await system.query<UserRecord>(
    `INSERT INTO users (id, email, password_hash, platform_admin, invite_token_hash, invite_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
    [
      user.id,
      user.email,
      user.passwordHash,
      user.platformAdmin ?? false,
      user.inviteTokenHash ?? null,
      user.inviteExpiresAt ?? null,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT INTO users returned no row');
  return row;
}
