import type { Tx } from '../database';

/**
 * Records that the user's TOTP code of time step `step` (Unix seconds / 30) was used. False when a
 * code of this step or a later one was used before: a replay. System path.
 */
export async function useTotpStep(system: Tx, args: { userId: string; step: number }): Promise<boolean> {
  const { rowCount } = await system.query(
    `UPDATE users SET totp_last_step = $2
      WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
    [args.userId, args.step],
  );
  return rowCount === 1;
}
