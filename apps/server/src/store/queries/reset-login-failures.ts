import type { Tx } from '../database';

/** A successful login or TOTP check: the user's count of consecutive failures and lock are cleared. */
export async function resetLoginFailures(system: Tx, userId: string): Promise<void> {
  await system.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [userId]);
}
