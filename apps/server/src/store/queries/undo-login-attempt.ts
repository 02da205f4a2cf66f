import type { Tx } from '../database';

/**
 * Takes back an attempt counted by `beginLoginAttempt` that was no failure: the right password
 * without the TOTP code it needs (the client asks for the code next). A lock that this attempt set
 * (`lockedUntil`, as it returned) is lifted: while it held, no other attempt changed the row.
 */
export async function undoLoginAttempt(system: Tx, args: { userId: string; lockedUntil: Date | null }): Promise<void> {
  await system.query(
    `UPDATE users
        SET failed_logins = greatest(failed_logins - 1, 0),
            locked_until = CASE WHEN locked_until IS NOT DISTINCT FROM $2 THEN NULL ELSE locked_until END
      WHERE id = $1`,
    [args.userId, args.lockedUntil],
  );
}
