import type { Tx } from '../database';
import { USER_COLUMNS, type UserRecord } from './find-user-by-email';

/**
 * Sets a user's TOTP state: a new sealed secret not yet enabled (enrolment), enabled (confirmed), or
 * none (disabled). The last used step is forgotten with a new secret. System path.
 */
export async function updateUserTotp(
  system: Tx,
  args: { userId: string; change: { kind: 'enrol'; sealedSecret: Buffer } | { kind: 'enable' } | { kind: 'disable' } },
): Promise<UserRecord | undefined> {
  const { change } = args;
  const set =
    change.kind === 'enrol'
      ? 'totp_secret = $2, totp_enabled = false, totp_last_step = NULL'
      : change.kind === 'enable'
        ? 'totp_enabled = true'
        : 'totp_secret = NULL, totp_enabled = false, totp_last_step = NULL';
  const { rows } = await system.query<UserRecord>(
    `UPDATE users SET ${set}, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    change.kind === 'enrol' ? [args.userId, change.sealedSecret] : [args.userId],
  );
  return rows[0];
}
