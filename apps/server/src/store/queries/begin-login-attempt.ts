import type { Tx } from '../database';
import { USER_COLUMNS, type UserRecord } from './find-user-by-email';

/** Consecutive failures after which an account locks. */
export const LOCK_AFTER_FAILURES = 5;

/**
 * Counts a login attempt (or a TOTP check) against the user before its secret is verified, unless the
 * user is locked; a success resets the count (`resetLoginFailures`). Counting first means parallel
 * guesses cannot outrun the lock. From the 5th consecutive failure on the account locks for 1 min,
 * doubling with each further one, at most 1 h. Returns the user as counted, or undefined when there
 * is no such user or it is locked. System path: users span tenants.
 */
export async function beginLoginAttempt(
  system: Tx,
  who: { email: string } | { userId: string },
): Promise<UserRecord | undefined> {
  const where = 'email' in who ? 'lower(email) = lower($1)' : 'id = $1';
  const { rows } = await system.query<UserRecord>(
    `UPDATE users
        SET failed_logins = failed_logins + 1,
            locked_until = CASE WHEN failed_logins + 1 >= ${LOCK_AFTER_FAILURES}
              THEN now() + least(interval '1 minute' * power(2, least(failed_logins + 1 - ${LOCK_AFTER_FAILURES}, 6)),
                                 interval '1 hour')
              END
      WHERE ${where} AND (locked_until IS NULL OR locked_until <= now())
      RETURNING ${USER_COLUMNS}`,
    ['email' in who ? who.email : who.userId],
  );
  return rows[0];
}
